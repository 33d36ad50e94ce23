package derived

import (
	"maps"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Record types of the derived registries (@type), as the table of registries names them.
var (
	memberType      = dci.RegistryOf(Social).RecordType
	beneficiaryType = dci.RegistryOf(Beneficiary).RecordType
	disabilityType  = dci.RegistryOf(Disability).RecordType
	farmerType      = dci.RegistryOf(Farmer).RecordType
)

// Fields each registry's records can carry (for its service in the directory).
var Fields = map[string][]string{
	Social: {"person", "uin", "given_name", "family_name", "sex", "birth_date", "household", "household.id", "household.size",
		"household.members", "household.region", "household.municipality", "household.monthly_income", "poverty_score", "vulnerable",
		"employment_status", "employment_status_date", "employment"},
	Beneficiary: {"person", "given_name", "family_name", "programmes"},
	Disability:  {"person", "given_name", "family_name", "functional_domains", "severity", "disabled", "assessment_date"},
	Farmer:      {"person", "farmer_id", "given_name", "family_name", "region", "municipality", "land_area_ha", "crops", "livestock"},
}

// monthlyIncome is the monthly income of one person, in the nation's currency: the one
// declared (d), else the derived one, where a tenth of adults have none.
func monthlyIncome(p *population.Person, d *declared, day date.Date) int {
	var declared *int
	if d != nil {
		declared = d.income
	}
	return Income(p.Number, p.BirthDate, day, declared)
}

// Income is the monthly income of the person number born on birth, on day: declared
// when one was, else the derived one, where a tenth of adults have none.
func Income(number string, birth, day date.Date, declared *int) int {
	if declared != nil {
		return *declared
	}
	a := ageOn(birth, day)
	switch {
	case a < 18:
		return 0
	case draw(number, "no-income", 10) == 0:
		return 0
	case a >= 65:
		return 900 + int(draw(number, "pension", 1400))
	}
	return 1100 + int(draw(number, "income", 3900))
}

// socialRecord is p's entry of the social registry, with its household and, when one was
// declared, its employment; decl holds the changes declared about each member.
func socialRecord(p *population.Person, members []population.Person, decl map[string]*declared, day date.Date) map[string]any {
	income, adults := 0, 0
	ids := make([]string, 0, len(members))
	for i := range members {
		income += monthlyIncome(&members[i], decl[members[i].Number], day)
		if age(&members[i], day) >= 18 {
			adults++
		}
		ids = append(ids, members[i].Number)
	}
	slices.Sort(ids)
	// The poverty score runs from 0 (poorest) to 100, from income per consumption unit
	// (OECD-modified scale: 1 for the first adult, 0.5 for others, 0.3 for children).
	units := 1 + 0.5*float64(max(adults-1, 0)) + 0.3*float64(len(members)-max(adults, 1))
	perUnit := float64(income) / units
	score := min(100, int(perUnit/30))
	rec := map[string]any{
		"@type": memberType, "person": p.Number, "uin": p.Number, "given_name": p.GivenName, "family_name": p.FamilyName,
		"sex": p.Sex, "birth_date": p.BirthDate.String(),
		"household": map[string]any{"id": p.Household, "size": len(members), "members": ids, "region": p.Address.Region,
			"municipality": p.Address.Municipality, "monthly_income": income},
		"poverty_score": score, "vulnerable": score < 25,
	}
	if d := decl[p.Number]; d != nil && !d.employment.IsZero() {
		jobs := make([]any, 0, len(d.employers))
		for _, e := range slices.Sorted(maps.Keys(d.employers)) {
			jobs = append(jobs, map[string]any{"employer": e, "since": d.employers[e].String()})
		}
		rec["employment_status"] = "unemployed"
		if len(jobs) > 0 {
			rec["employment_status"] = "employed"
		}
		rec["employment_status_date"], rec["employment"] = d.employment.String(), jobs
	}
	return rec
}

// beneficiaryRecord lists the programmes p is enrolled in: child benefit for children,
// the old-age pension from 65; the programmes of the rights p holds (paid, from the
// rights engine's decisions) or, without decisions, the cash transfer for members of
// poor households; and, over these, the enrolments and exits declared.
func beneficiaryRecord(p *population.Person, members []population.Person, decl map[string]*declared, day date.Date, paid map[string]date.Date) map[string]any {
	progs := []any{}
	a := age(p, day)
	enrol := func(programme string, since date.Date, amount int) {
		progs = append(progs, map[string]any{"programme": programme, "status": Active, "enrolled_on": since.String(), "monthly_amount": amount})
	}
	if !p.DeathDate.IsZero() {
		return map[string]any{"@type": beneficiaryType, "person": p.Number, "given_name": p.GivenName, "family_name": p.FamilyName, "programmes": progs}
	}
	if a < 18 {
		enrol("child-benefit", p.BirthDate.AddDays(60), 160+int(draw(p.Number, "child", 3))*20)
	}
	if a >= 65 {
		enrol("old-age-pension", date.Of(p.BirthDate.Year()+65, p.BirthDate.Month(), 1), monthlyIncome(p, decl[p.Number], day))
	}
	switch {
	case paid != nil: // the rights engine's decisions (#19)
		for _, prog := range slices.Sorted(maps.Keys(paid)) {
			if slices.Contains(Programmes, prog) && !slices.ContainsFunc(progs, func(pr any) bool { return pr.(map[string]any)["programme"] == prog }) {
				enrol(prog, paid[prog], 120)
			}
		}
	default:
		if rec := socialRecord(p, members, decl, day); rec["vulnerable"] == true {
			enrol("cash-transfer", day.AddDays(-int(draw(p.Number, "cash", 1000))), 120)
		}
	}
	if d := decl[p.Number]; d != nil {
		for _, name := range slices.Sorted(maps.Keys(d.enrolments)) {
			e := d.enrolments[name]
			i := slices.IndexFunc(progs, func(pr any) bool { return pr.(map[string]any)["programme"] == name })
			if e.status == Active {
				pr := map[string]any{"programme": name, "status": Active, "enrolled_on": e.since.String(), "monthly_amount": e.monthlyAmount}
				if i < 0 {
					progs = append(progs, pr)
				} else {
					progs[i] = pr
				}
				continue
			}
			if i < 0 {
				pr := map[string]any{"programme": name, "status": Ended, "ended_on": e.ended.String()}
				if !e.since.IsZero() {
					pr["enrolled_on"] = e.since.String()
				}
				progs = append(progs, pr)
				continue
			}
			pr := progs[i].(map[string]any)
			pr["status"], pr["ended_on"] = Ended, e.ended.String()
			delete(pr, "monthly_amount")
		}
	}
	return map[string]any{"@type": beneficiaryType, "person": p.Number, "given_name": p.GivenName, "family_name": p.FamilyName, "programmes": progs}
}

// The Washington Group short set: six functional domains, four levels of difficulty.
var (
	wgDomains = []string{"seeing", "hearing", "walking", "cognition", "self_care", "communication"}
	wgLevels  = []string{"no difficulty", "some difficulty", "a lot of difficulty", "cannot do at all"}
)

// disabilityRecord gives p's functional difficulties: those of the last assessment
// declared (decl), else derived ones. Difficulty grows with age; about one person in
// eight has a lot of difficulty or more in some domain, the standard's cut-off for
// disability.
func disabilityRecord(p *population.Person, decl *declared, day date.Date) map[string]any {
	a := age(p, day)
	domains := map[string]any{}
	worst := 0
	for _, d := range wgDomains {
		if decl != nil && decl.domains != nil {
			level := slices.Index(wgLevels, decl.domains[d])
			domains[d] = wgLevels[max(level, 0)]
			worst = max(worst, level)
			continue
		}
		level := drawnLevel(p.Number, d, a)
		domains[d] = wgLevels[level]
		worst = max(worst, level)
	}
	severity := []string{"none", "mild", "moderate", "severe"}[worst]
	rec := map[string]any{"@type": disabilityType, "person": p.Number, "given_name": p.GivenName, "family_name": p.FamilyName,
		"functional_domains": domains, "severity": severity, "disabled": worst >= 2}
	if decl != nil && decl.domains != nil && !decl.assessed.IsZero() { // a fixture has no assessment
		rec["assessment_date"] = decl.assessed.String()
	}
	return rec
}

// isFarmer: one adult in twelve, aged 18 to 80, alive.
func isFarmer(p *population.Person, day date.Date) bool {
	a := age(p, day)
	return p.DeathDate.IsZero() && a >= 18 && a <= 80 && draw(p.Number, "farmer", 12) == 0
}

var crops = []string{"maize", "wheat", "beans", "potatoes", "rice", "sorghum", "cassava", "vegetables"}

// farmerRecord is p's entry of the farmer registry.
func farmerRecord(p *population.Person, farmerID string) map[string]any {
	var grown []string
	for i, c := range crops {
		if draw(p.Number, "crop", uint64(len(crops))) == uint64(i) || draw(p.Number, "crop-"+c, 4) == 0 {
			grown = append(grown, c)
		}
	}
	return map[string]any{
		"@type": farmerType, "person": p.Number, "farmer_id": farmerID, "given_name": p.GivenName, "family_name": p.FamilyName,
		"region": p.Address.Region, "municipality": p.Address.Municipality,
		"land_area_ha": float64(5+draw(p.Number, "land", 400)) / 10, "crops": grown,
		"livestock": map[string]any{"cattle": draw(p.Number, "cattle", 12), "goats": draw(p.Number, "goats", 20), "poultry": draw(p.Number, "poultry", 60)},
	}
}

// drawnLevel is the derived level of difficulty (an index of wgLevels) of the person
// number, aged a, in domain d.
func drawnLevel(number, d string, a int) int {
	r := int(drawSalted(number, "wg-", d, 1000))
	r += a * 3 // older people report more difficulty
	switch {
	case r > 1240:
		return 3
	case r > 1150:
		return 2
	case r > 900:
		return 1
	}
	return 0
}
