package synth

import "strings"

// The name lists are mixed the way a small European country's register is: Dutch, French,
// German and immigrant names side by side. Their order matters: zipf pickers make the
// first names of each list the most frequent.

var maleNames = strings.Fields(`
Lucas Louis Noah Arthur Liam Adam Jules Victor Gabriel Mohamed Leon Finn Nathan Hugo
Thomas Vincent Maxime Simon Marc Luc Jan Pieter Peter Johan Koen Bart Wim Dirk Geert
Kristof Tom Tim Wouter Jeroen Joris Jens Jonas Lars Senne Warre Mathias Matteo Elias
Jean Pierre Michel Philippe Patrick Eric Alain Daniel Didier Christian Pascal Olivier
Frank Paul Marcel Andre Jacques Claude Serge Yves Guy Roger Robert Rene Georges Henri
Albert Joseph Jozef Frans Willy Gilbert Raymond Gaston Emile Fernand Rudi Ludo Antoine
Alexandre Nicolas Julien Sebastien Laurent Cedric Damien Benoit Arnaud Quentin Romain
Guillaume Florent Thibault Bastien Corentin Baptiste Clement Valentin Mathieu Kevin
Steven Glenn Gregory Yannick Dimitri Sven Stefan Bjorn Niels Sander Ruben Robin Bram
Brecht Dries Jelle Jesse Jasper Lode Lowie Mauro Milan Nand Rune Seppe Stan Stijn Tibo
Toon Vic Wannes Xander Yorben Zeno Aaron Axel Bas Cas Daan Ferre Gust Ibrahim Youssef
Ahmed Omar Hamza Ali Mehmet Mustafa Emre Karim Rachid Said Bilal Ilias Adrian Andrei
Piotr Krzysztof Tomasz Marek Pavel Ivan Dmitri Giovanni Marco Luca Antonio Giuseppe
Salvatore Carlos Miguel Javier Pablo Jose Manuel Joao Pedro Rui Tiago Ricardo Edouard
Etienne Felix Ferdinand Francois Gerard Hubert Jerome Leopold Lucien Marius Maurice
Norbert Oscar Raphael Remi Tristan Urbain Xavier Armand Aurelien Amaury Augustin Boris
Bruno Camiel Constant Cyriel Denis Emmanuel Fabian Fabrice Gilles Hendrik Hans Herman
Ignace Jef Karel Kamiel Leo Lieven Marnix Michiel Nestor Octaaf Pol Renaat Staf Theo
Valere Walter Werner Wilfried Andreas Anton Bernard Christophe Erik
`)

var femaleNames = strings.Fields(`
Olivia Emma Louise Mila Alice Juliette Elena Marie Lina Nora Sofia Lore Ella Anna Lea
Maria Sarah Laura Julie Charlotte Lisa Sofie Eline Hanne Lotte Femke Fien Noor Nele Lien
Leen Els Katrien Ilse Greet Inge Veerle An Ann Kathleen Karin Martine Linda Nathalie
Isabelle Sandrine Sophie Caroline Catherine Valerie Stephanie Virginie Aurelie Christine
Monique Nicole Chantal Francoise Anne Brigitte Sylvie Patricia Pascale Claire Jeanne
Madeleine Suzanne Simone Yvonne Germaine Denise Paula Jacqueline Josee Georgette Rita
Godelieve Agnes Mariette Lutgarde Gerda Hilde Magda Rosa Irma Bertha Elza Manon Camille
Chloe Clara Ines Jade Zoe Lucie Pauline Mathilde Margaux Amelie Audrey Melanie Jessica
Tiffany Vanessa Cindy Kimberly Jolien Britt Kaat Jana Amber Lara Yana Amira Fatima
Khadija Aicha Meryem Yasmina Salma Nadia Samira Leila Zeynep Elif Ayse Emine Fatma
Hatice Agnieszka Katarzyna Magdalena Joanna Ewa Ioana Andreea Giulia Chiara Francesca
Valentina Lucia Carmen Isabel Pilar Ana Beatriz Mariana Adele Agathe Alix Ariane Astrid
Axelle Beatrice Bernadette Cecile Celine Colette Coralie Delphine Diane Edith Elise
Elodie Emilie Estelle Eva Fanny Flore Florence Gabrielle Genevieve Helene Irene Jacinthe
Josephine Justine Laetitia Laure Lydia Marianne Marion Maud Michele Myriam Odette Regine
Renee Solange Therese Veronique Viviane Yvette Annelies Annick Barbara Bianca Carine
Carla Danielle Dorien Evelien Frieda Griet Heidi Ingrid Jozefien Kato Liesbeth Marijke
Mieke Nina Roos Sabine Sanne Tine Tinne Vera Wendy Yolande
`)

// Compound names are written with '_' in the list and a space in the register.
var familyNames = spaced(strings.Fields(`
Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters De_Smet Dubois
Lambert Dupont Martin Simon Leroy Laurent Dumont Lejeune Renard Hermans Michiels Aerts
Smets Vermeulen Desmet Vandenberghe Hendrickx Verstraete Segers Coppens Stevens Pauwels
Martens De_Clercq Vermeersch Lemmens Wuyts Bogaert Cools Dewilde Verhoeven Peters
Timmermans Francois Devos Baert Collard Mathieu Fontaine Denis Lemaire Gerard Leclercq
Charlier Thiry Noel Petit Henry Marechal Gilson Jacquet Bertrand Hubert Lecomte Dupuis
Mercier Verbruggen Thys Sels Geerts Verhaegen Verlinden Jansen De_Backer Claeys
Van_Damme Govaerts Vanhove Vandamme Vermeiren Cornelis Verschueren Huybrechts Moens
Hoste Deprez Carlier Lecocq Piette Masson Delvaux Pirard Jadot Collignon Gillet Lemoine
Delhaye Beckers Smeets Kerkhofs Vanderstraeten Bosmans Jorissen Nijs Tielemans Daems
Luyten Vandevelde De_Vos Declercq Maenhout Vanneste Lannoo Callens Vercruysse Debruyne
Coene Depoorter Verhelst Deceuninck Vandenbussche Degryse Vanhoutte Dejonghe Vandewalle
Blondeel Roels Goethals Dhondt Deleu Verbeke Vandenbroucke Demeyer Decock Wyffels Leysen
Mattheus Van_Loon Nuyts Bastiaens Engelen Voet Lenaerts Boeckx Slegers Schoofs Jaspers
Stas Vrancken Ramaekers Thijs Maas Schepers Bollen Cuypers Reynders Lambrechts Verhaert
Vleminckx Vandeput Mees Michielsen Goris Verheyen Gysen Haesen Heylen Kenis Lauwers
Nackaerts Peetermans Raes Sterckx Swinnen Torfs Verbist Wellens Yilmaz Kaya Demir Sahin
Celik Ozturk El_Amrani Benali Bouzid El_Idrissi Haddou Mansouri Tahiri Nowak Kowalski
Wisniewski Wojcik Kaminski Popescu Ionescu Popa Rossi Russo Ferrari Esposito Bianchi
Romano Colombo Garcia Fernandez Lopez Martinez Sanchez Perez Silva Santos Ferreira
Pereira Oliveira Costa Rodrigues Muller Schmidt Schneider Fischer Weber Meyer Wagner
Becker Schulz Hoffmann Smith Jones Brown Taylor Wilson Kabongo Mbuyi Ilunga Tshibangu
Mukendi Kalala Ngoy Diallo Barry Bah Sow Camara Traore Adam Albert Andre Antoine Arnould
Balthazar Bauduin Beaumont Bodart Bonnet Bouchat Brasseur Castiaux Chapelle Closset
Colin Cornet Daubresse Defays Delcourt Delforge Demarteau Deneffe Devillers Dochain
Dumortier Evrard Fievez Foguenne Frippiat Gaspard Ghislain Gobert Goffin Grandjean
Guillaume Hallet Hardy Herbiet Horion Jacquemin Jamar Jonckheere Lacroix Lahaye Lalmand
Lardinois Leburton Lefevre Legrand Lhoest Loly Malherbe Marchal Maton Minet Moreau
Nicolay Paquet Pierard Poncelet Quinet Remacle Robert Rousseau Schmitz Servais Stassart
Thonon Urbain Valentin Warnier Wathelet Wilmotte Zimmer
`))

// Streets are a base and a kind, so a few dozen words give several hundred streets.
var streetBases = strings.Fields(`
Church Station Market Mill School Bridge Meadow Orchard Chestnut Linden Oak Beech Birch
Willow Poplar Elm Maple Rose Tulip Lily Harbour Castle Abbey Brewery Canal Forest Garden
Heath Lake Beacon Bell Cross Dyke Ferry Forge Glass Guild Hay Kings Queens Lantern Miller
Mint Nightingale Pilgrim Priory Quarry Rampart Ropewalk Saddler Tanner Tower Weaver Well
Windmill Wool Spring Victory Liberty Harvest Peace Union Lark Swan Heron Falcon Fountain
`)

var streetKinds = strings.Fields(`Street Street Street Lane Road Road Avenue Square Way Row Walk Close Place`)

// Place names are built from syllables: invented, but they sound like towns.
var (
	placeHeads = strings.Fields(`Al Am Ar Bel Bran Cal Cor Dal Dor El Fal Fen Gar Glen Hal Hol
		Kel Lan Lor Mar Mel Nor Or Pen Ran Ros Sal Sel Tam Tor Val Ver Wel Wil Yar Zel Ost Lin
		Brug Hav Kort Mech Ter`)
	placeMids  = []string{"", "", "", "", "a", "e", "i", "o", "en", "er", "an", "el", "de"}
	placeTails = strings.Fields(`berg bourg brook bury dale court field ford gate ham haven
		heim hill holm lem mont moor mouth stad stead ton vale ville wick wood gem aken ingen
		rode sele hout zele beke`)
)

// regionNames are the regions, drawn in a seed-dependent order.
var regionNames = strings.Fields(`Aldmark Brenhaven Corvelle Dunmoor Estrava Falkenrode
	Glenmara Hollandt Ismere Jorvale Kestria Lowenmark`)

// Foreign nationalities (ISO 3166-1 alpha-3) and their weights among foreign residents.
var (
	foreignCodes  = []string{"FRA", "NLD", "ITA", "MAR", "ROU", "ESP", "POL", "DEU", "PRT", "TUR", "COD", "BGR", "GBR", "SYR", "IND"}
	foreignPicker = weights(17, 16, 12, 10, 10, 7, 7, 5, 5, 4, 3, 3, 2, 2, 2)
)

// spaced turns the '_' of compound names into spaces.
func spaced(names []string) []string {
	for i, n := range names {
		names[i] = strings.ReplaceAll(n, "_", " ")
	}
	return names
}
