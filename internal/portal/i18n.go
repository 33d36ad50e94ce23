package portal

import (
	"net/http"
	"strings"
)

// langs are the languages of the pages, the first the default.
var langs = []string{"en", "fr"}

// messages holds every text of the pages by language and key. A key missing from a
// language falls back to English (TestMessagesComplete keeps them complete).
var messages = map[string]map[string]string{
	"en": {
		"title":              "Crossroads — my social rights",
		"skip":               "Skip to content",
		"lang.other":         "Français",
		"nav.statuses":       "My statuses",
		"nav.data":           "My data",
		"nav.consultations":  "Who consulted my data",
		"nav.proof":          "Prove a status",
		"nav.verify":         "Verify a proof",
		"logout":             "Log out",
		"hello":              "Logged in as",
		"login.title":        "Log in",
		"login.eid":          "Log in with the national e-ID",
		"login.eid.none":     "No e-ID provider is configured on this hub.",
		"login.code":         "Log in with a one-time code",
		"login.code.person":  "Your person number",
		"login.code.send":    "Send me a code",
		"login.code.sent":    "If this person number is known, a code was sent to the phone registered for it. It is valid for 5 minutes.",
		"login.code.enter":   "The code you received",
		"login.code.check":   "Log in",
		"login.pro":          "Professionals: verify a proof",
		"statuses.title":     "My statuses",
		"statuses.on":        "On the date",
		"statuses.show":      "Show",
		"statuses.none":      "No status is known for that day.",
		"statuses.holds":     "yes",
		"statuses.not":       "no",
		"statuses.facts":     "Based on",
		"statuses.source":    "Source",
		"data.title":         "My data held by each source",
		"data.intro":         "Each source was asked through the hub, as you; each reading is recorded in the audit log, and you find it under “Who consulted my data”.",
		"data.none":          "This source holds nothing about you.",
		"data.error":         "This source could not answer now.",
		"cons.title":         "Who consulted my data",
		"cons.intro":         "Every exchange about you recorded in the hub's audit log, refused attempts included. Each comes with its proof of inclusion in the log: check it against the hub's published checkpoint (/audit/checkpoint) with “crossroads audit verify-evidence”.",
		"cons.when":          "When",
		"cons.who":           "Institution",
		"cons.what":          "Data",
		"cons.purpose":       "Purpose",
		"cons.decision":      "Decision",
		"cons.proof":         "Proof",
		"cons.download":      "download",
		"cons.shared":        "(a record naming other persons too: its evidence is not given here)",
		"cons.none":          "No one has consulted your data yet.",
		"cons.self":          "You, through this portal",
		"cons.permit":        "permitted",
		"cons.deny":          "refused",
		"proof.title":        "Prove a status",
		"proof.intro":        "Choose the status to prove. You get a short code to give to the person checking it (valid 10 minutes) and a signed credential shown as a QR code (valid 24 hours), which can be checked without calling the hub.",
		"proof.status":       "Status",
		"proof.create":       "Create a proof",
		"proof.none":         "You hold no status today that can be proven.",
		"proof.code":         "Your code",
		"proof.until":        "Valid until",
		"proof.qr":           "QR code of the signed credential",
		"proof.jwt":          "The credential (to copy)",
		"pro.title":          "Verify a proof",
		"pro.login":          "Log in as an application of your institution",
		"pro.client":         "Client id",
		"pro.secret":         "Client secret",
		"pro.signin":         "Log in",
		"pro.as":             "Verifying for",
		"pro.code":           "Code given by the person",
		"pro.cred":           "Or the credential (scanned or pasted)",
		"pro.check":          "Verify",
		"pro.scan":           "Scan a QR code",
		"pro.valid":          "VALID",
		"pro.invalid":        "NOT VALID",
		"pro.for":            "for",
		"pro.name":           "Name",
		"pro.today":          "today",
		"error.title":        "Something went wrong",
		"error.back":         "Back to the portal",
		"error.login":        "The login failed. Please try again.",
		"error.csrf":         "The form expired. Please try again.",
		"error.limit":        "Too many attempts. Please wait a few minutes.",
		"error.badcode":      "This code is not valid.",
		"error.date":         "The date is not valid (use YYYY-MM-DD, not after today).",
		"error.unavailable":  "The service is not available now. Please try again later.",
		"error.notfound":     "This page does not exist.",
		"error.notheld":      "This proof was valid, but the person no longer holds this right today.",
		"error.unchecked":    "This credential cannot be checked online any more: ask the person for a new proof.",
		"right.statute":      "Statute",
		"right.right":        "Additional right",
		"right.decision":     "Decision",
		"right.granted":      "granted, from",
		"right.ended":        "ended, from",
		"right.refused":      "refused, from",
		"right.none":         "No decision: you have never been granted it.",
		"right.now":          "On the facts read today, the rule gives",
		"right.failure":      "The rule could not decide",
		"right.rule":         "The rule",
		"right.legal":        "Legal basis",
		"right.grantedby":    "Granted by",
		"right.uses":         "Statutes it rests on",
		"right.fact":         "Fact",
		"right.value":        "Value",
		"right.source":       "Source",
		"right.date":         "Date",
		"right.version":      "version",
		"right.decided":      "decided on",
		"status.vulnerable":  "Member of a vulnerable household (social registry)",
		"status.disabled":    "Recognised disability (disability registry)",
		"status.programme":   "Enrolled in programme",
		"status.past":        "This registry answers about today only.",
		"tr.title":           "Transparency: who may see what",
		"tr.intro":           "Every authorization in force today: which institution may ask which service for which data, for what purpose, on which legal basis. Nothing leaves the hub without one, and every exchange is recorded in the audit log.",
		"tr.search":          "Search (institution, service, purpose, legal basis)",
		"tr.find":            "Search",
		"tr.count":           "authorizations in force",
		"tr.more":            "the first 200 shown; search to narrow",
		"tr.service":         "Service and data",
		"tr.basis":           "Legal basis",
		"tr.valid":           "In force",
		"tr.checkpoint":      "The audit log's latest checkpoint",
		"tr.size":            "Records",
		"tr.witness":         "Cosigned by the witness",
		"tr.how":             "How to check your own evidence",
		"tr.how.1":           "Log in, open “Who consulted my data” and download the proof of a record. Then, with the hub's published key, anyone can check it offline:",
		"tr.how.2":           "The checkpoint it names is signed by the hub and cosigned by independent witnesses, which refuse to sign a log that was rewritten or cut.",
		"tr.keys":            "The keys that signed the log",
		"tr.keys.intro":      "The hub's key is replaced from time to time; each key checks the checkpoints it signed, and only those, so a proof downloaded before a change still checks.",
		"tr.keys.sizes":      "checkpoints of sizes",
		"tr.keys.now":        "now",
		"nav.transparency":   "Transparency",
		"admin.title":        "Operators' console",
		"admin.token":        "Administrator token",
		"admin.directory":    "The directory",
		"admin.deliveries":   "Deliveries of changes",
		"admin.changes":      "changes",
		"admin.routed":       "copies routed",
		"admin.withheld":     "withheld",
		"admin.delivered":    "delivered",
		"admin.failed":       "failed attempts",
		"admin.subscription": "Subscription",
		"admin.pending":      "Pending",
		"admin.inflight":     "In flight (retried)",
		"admin.dead":         "Set aside",
		"admin.retry":        "Send again",
		"admin.retried":      "Copies sent again",
		"admin.metrics":      "Throughput and errors: the hub's metrics at /metrics (Prometheus).",
		"dev.idp":            "DEVELOPMENT identity provider: not for real use.",
		"devidp.pick":        "Pick a person of the synthetic nation",
		"devidp.person":      "Person number",
		"devidp.login":       "Log in as this person",
	},
	"fr": {
		"title":              "Crossroads — mes droits sociaux",
		"skip":               "Aller au contenu",
		"lang.other":         "English",
		"nav.statuses":       "Mes statuts",
		"nav.data":           "Mes données",
		"nav.consultations":  "Qui a consulté mes données",
		"nav.proof":          "Prouver un statut",
		"nav.verify":         "Vérifier une preuve",
		"logout":             "Se déconnecter",
		"hello":              "Connecté·e en tant que",
		"login.title":        "Se connecter",
		"login.eid":          "Se connecter avec l'identité électronique",
		"login.eid.none":     "Aucun fournisseur d'identité électronique n'est configuré sur ce hub.",
		"login.code":         "Se connecter avec un code à usage unique",
		"login.code.person":  "Votre numéro de personne",
		"login.code.send":    "M'envoyer un code",
		"login.code.sent":    "Si ce numéro est connu, un code a été envoyé au téléphone enregistré. Il est valable 5 minutes.",
		"login.code.enter":   "Le code reçu",
		"login.code.check":   "Se connecter",
		"login.pro":          "Professionnels : vérifier une preuve",
		"statuses.title":     "Mes statuts",
		"statuses.on":        "À la date du",
		"statuses.show":      "Afficher",
		"statuses.none":      "Aucun statut n'est connu pour ce jour.",
		"statuses.holds":     "oui",
		"statuses.not":       "non",
		"statuses.facts":     "Sur la base de",
		"statuses.source":    "Source",
		"data.title":         "Mes données détenues par chaque source",
		"data.intro":         "Chaque source a été interrogée via le hub, en votre nom ; chaque lecture est inscrite au journal d'audit, et vous la retrouvez sous « Qui a consulté mes données ».",
		"data.none":          "Cette source ne détient rien sur vous.",
		"data.error":         "Cette source n'a pas pu répondre pour l'instant.",
		"cons.title":         "Qui a consulté mes données",
		"cons.intro":         "Chaque échange vous concernant inscrit au journal d'audit du hub, tentatives refusées comprises. Chacun avec sa preuve d'inclusion : vérifiez-la contre le point de contrôle publié (/audit/checkpoint) avec « crossroads audit verify-evidence ».",
		"cons.when":          "Quand",
		"cons.who":           "Institution",
		"cons.what":          "Données",
		"cons.purpose":       "Finalité",
		"cons.decision":      "Décision",
		"cons.proof":         "Preuve",
		"cons.download":      "télécharger",
		"cons.shared":        "(un enregistrement qui nomme aussi d'autres personnes : sa preuve n'est pas donnée ici)",
		"cons.none":          "Personne n'a encore consulté vos données.",
		"cons.self":          "Vous, via ce portail",
		"cons.permit":        "autorisé",
		"cons.deny":          "refusé",
		"proof.title":        "Prouver un statut",
		"proof.intro":        "Choisissez le statut à prouver. Vous recevez un code court à donner à la personne qui le vérifie (valable 10 minutes) et une attestation signée affichée en QR code (valable 24 heures), vérifiable sans interroger le hub.",
		"proof.status":       "Statut",
		"proof.create":       "Créer une preuve",
		"proof.none":         "Vous n'avez aujourd'hui aucun statut à prouver.",
		"proof.code":         "Votre code",
		"proof.until":        "Valable jusqu'au",
		"proof.qr":           "QR code de l'attestation signée",
		"proof.jwt":          "L'attestation (à copier)",
		"pro.title":          "Vérifier une preuve",
		"pro.login":          "Se connecter comme application de votre institution",
		"pro.client":         "Identifiant client",
		"pro.secret":         "Secret client",
		"pro.signin":         "Se connecter",
		"pro.as":             "Vérification pour",
		"pro.code":           "Code donné par la personne",
		"pro.cred":           "Ou l'attestation (scannée ou collée)",
		"pro.check":          "Vérifier",
		"pro.scan":           "Scanner un QR code",
		"pro.valid":          "VALABLE",
		"pro.invalid":        "NON VALABLE",
		"pro.for":            "pour",
		"pro.name":           "Nom",
		"pro.today":          "aujourd'hui",
		"error.title":        "Un problème est survenu",
		"error.notheld":      "Cette preuve était valide, mais la personne ne détient plus ce droit aujourd'hui.",
		"error.unchecked":    "Cette attestation ne peut plus être vérifiée en ligne : demandez une nouvelle preuve à la personne.",
		"right.statute":      "Statut",
		"right.right":        "Droit dérivé",
		"right.decision":     "Décision",
		"right.granted":      "accordé, à partir du",
		"right.ended":        "terminé, à partir du",
		"right.refused":      "refusé, à partir du",
		"right.none":         "Aucune décision : il ne vous a jamais été accordé.",
		"right.now":          "Sur les données lues aujourd'hui, la règle donne",
		"right.failure":      "La règle n'a pas pu décider",
		"right.rule":         "La règle",
		"right.legal":        "Base légale",
		"right.grantedby":    "Accordé par",
		"right.uses":         "Statuts sur lesquels il repose",
		"right.fact":         "Donnée",
		"right.value":        "Valeur",
		"right.source":       "Source",
		"right.date":         "Date",
		"right.version":      "version",
		"right.decided":      "décidé le",
		"error.back":         "Retour au portail",
		"error.login":        "La connexion a échoué. Veuillez réessayer.",
		"error.csrf":         "Le formulaire a expiré. Veuillez réessayer.",
		"error.limit":        "Trop de tentatives. Veuillez patienter quelques minutes.",
		"error.badcode":      "Ce code n'est pas valable.",
		"error.date":         "La date n'est pas valable (AAAA-MM-JJ, pas après aujourd'hui).",
		"error.unavailable":  "Le service n'est pas disponible pour l'instant. Veuillez réessayer plus tard.",
		"error.notfound":     "Cette page n'existe pas.",
		"status.vulnerable":  "Membre d'un ménage vulnérable (registre social)",
		"status.disabled":    "Handicap reconnu (registre du handicap)",
		"status.programme":   "Inscrit·e au programme",
		"status.past":        "Ce registre ne répond que pour aujourd'hui.",
		"tr.title":           "Transparence : qui peut voir quoi",
		"tr.intro":           "Chaque autorisation en vigueur aujourd'hui : quelle institution peut interroger quel service, pour quelles données, dans quel but, sur quelle base légale. Rien ne sort du hub sans elle, et chaque échange est inscrit au journal d'audit.",
		"tr.search":          "Rechercher (institution, service, finalité, base légale)",
		"tr.find":            "Rechercher",
		"tr.count":           "autorisations en vigueur",
		"tr.more":            "les 200 premières affichées ; affinez la recherche",
		"tr.service":         "Service et données",
		"tr.basis":           "Base légale",
		"tr.valid":           "En vigueur",
		"tr.checkpoint":      "Dernier point de contrôle du journal d'audit",
		"tr.size":            "Enregistrements",
		"tr.witness":         "Cosigné par le témoin",
		"tr.how":             "Comment vérifier vos propres preuves",
		"tr.how.1":           "Connectez-vous, ouvrez « Qui a consulté mes données » et téléchargez la preuve d'un enregistrement. Ensuite, avec la clé publiée du hub, chacun peut la vérifier hors ligne :",
		"tr.how.2":           "Le point de contrôle qu'elle cite est signé par le hub et cosigné par des témoins indépendants, qui refusent de signer un journal réécrit ou tronqué.",
		"tr.keys":            "Les clés qui ont signé le journal",
		"tr.keys.intro":      "La clé du hub est remplacée de temps en temps ; chaque clé vérifie les points de contrôle qu'elle a signés, et eux seuls : une preuve téléchargée avant un changement se vérifie toujours.",
		"tr.keys.sizes":      "points de contrôle de tailles",
		"tr.keys.now":        "aujourd'hui",
		"nav.transparency":   "Transparence",
		"admin.title":        "Console des opérateurs",
		"admin.token":        "Jeton d'administrateur",
		"admin.directory":    "L'annuaire",
		"admin.deliveries":   "Livraison des changements",
		"admin.changes":      "changements",
		"admin.routed":       "copies routées",
		"admin.withheld":     "retenues",
		"admin.delivered":    "livrées",
		"admin.failed":       "tentatives échouées",
		"admin.subscription": "Abonnement",
		"admin.pending":      "En attente",
		"admin.inflight":     "En cours (réessayées)",
		"admin.dead":         "Mises de côté",
		"admin.retry":        "Renvoyer",
		"admin.retried":      "Copies renvoyées",
		"admin.metrics":      "Débit et erreurs : les métriques du hub sur /metrics (Prometheus).",
		"dev.idp":            "Fournisseur d'identité de DÉVELOPPEMENT : pas pour un usage réel.",
		"devidp.pick":        "Choisissez une personne de la nation synthétique",
		"devidp.person":      "Numéro de personne",
		"devidp.login":       "Se connecter comme cette personne",
	},
}

// T returns the text of key in lang (English when missing, the key itself when unknown).
func T(lang, key string) string {
	if s, ok := messages[lang][key]; ok {
		return s
	}
	if s, ok := messages["en"][key]; ok {
		return s
	}
	return key
}

// langCookie keeps a language chosen with the switch.
const langCookie = "crossroads_lang"

// Lang picks the page's language: ?lang= (the switch, remembered in a cookie), the
// cookie, then the browser's Accept-Language, then English.
func Lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); known(l) {
		if w != nil {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		}
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && known(c.Value) {
		return c.Value
	}
	return FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

func known(l string) bool { return l == "en" || l == "fr" }

// FromAcceptLanguage returns the known language the header prefers most (q values
// honoured), English when none.
func FromAcceptLanguage(h string) string {
	best, bestQ := "en", -1.0
	for i, part := range strings.Split(h, ",") {
		if i >= 32 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q = parseQ(v)
		}
		if known(base) && q > bestQ && q > 0 {
			best, bestQ = base, q
		}
	}
	return best
}

// parseQ reads a quality value (0 to 1, up to three decimals); anything else is 0.
func parseQ(v string) float64 {
	switch {
	case v == "1" || strings.HasPrefix(v, "1."):
		return 1
	case strings.HasPrefix(v, "0."):
		q, scale := 0.0, 0.1
		for _, c := range v[2:min(len(v), 5)] {
			if c < '0' || c > '9' {
				return 0
			}
			q += float64(c-'0') * scale
			scale /= 10
		}
		return q
	}
	return 0
}
