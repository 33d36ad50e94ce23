// Package synth generates a synthetic nation for demos, tests and benchmarks: a
// population register (places, persons, vital events) and the reference directory of a
// social-protection network (institutions, applications, the civil-person service,
// authorizations, subscriptions, employers and the person directory), all consistent
// with each other. The same Seed, Persons and Today always give the same data; stores'
// own timestamps (record versions, history, integration creation) come from their clocks.
//
// Generate writes through population.Store and directory.Directory only. The population
// and the directory are written at the same time by two goroutines, each drawing the
// nation from the seed on its own, household by household, and writing it in bands of
// person numbers, sorted, so that the stores' B-trees grow at their right edge; memory
// stays bounded by a band, about 250,000 persons (see bands.go).
//
// # What every nation has
//
// Places: 6–10 regions "R01"… and Persons/2,000 municipalities (12–600) "M0001"…, each
// municipality in region i mod regions. Persons live in households of couples (mostly
// married), families with 1–4 children, singles, separated parents, elderly couples and
// widow(er)s; about 10% of the register is deceased. Nationality is Nationality ("XCR")
// for 92% of households. Events: birth for everyone, death for the deceased, marriage and
// divorce for each spouse, address for members of households that moved.
//
// Institutions (codes in the constants): CIVIL-REGISTRY, SOCIAL-REGISTRY, PENSION-FUND,
// CHILD-BENEFIT-NORTH/-SOUTH/-EAST/-WEST (one per 2–3 regions), HEALTH-INSURER-1..3,
// EMPLOYMENT-SERVICE, TAX-OFFICE, CITY-R01… (one per region) and MUSEUM, which has no
// authorization and no files, for demos of refusals. Each has one application, AppID(code)
// ("pension-fund-app"), active, without keys or secrets. Employers (Persons/25, at least 3)
// are institutions of sector and kind "employer", coded "E" + enterprise number.
//
// Authorizations, all on CivilPerson ("civil-person") and in force today except TAX-OFFICE's,
// which expired at the end of the year before last: PENSION-FUND (capacity 001),
// each child-benefit fund (010, 011), each health insurer (000), EMPLOYMENT-SERVICE (020)
// and each CITY (000, names and address only). Ids are "AUTH-<year>-<nnn>", counted back
// from Today. Subscriptions "sub-<code>": PENSION-FUND, the child-benefit funds and
// HEALTH-INSURER-1/-2 push to NowhereEndpoint + <code> (the demo points them at its own
// receiver); HEALTH-INSURER-3 pulls.
// The DCI conformance fixtures sub-test-001 (crvs, death), sub-crvs-test-001 (crvs,
// birth) and sub-fr-test-001 (fr, registration) are PENSION-FUND's.
//
// Person directory: the household's health insurer (000) from birth, the CITY of the
// region (000) for the living, PENSION-FUND (001) from the 65th birthday, the child-benefit
// fund of the child's region for minors (010) and their parents (011), an employer (030)
// for about 60% of living adults aged 18–64 and EMPLOYMENT-SERVICE (020) for about 8%.
// Files of the deceased end on the day of death.
//
// # The fixture person
//
// Every nation has the person conformance suites look up: BRN FixtureBRN
// ("BIRTH-TEST-001"), person number FixtureNumber ("85061500118"), "Test Fixture", male,
// born 1985-06-15 in M0001, alive, single, nationality XCR, alone in household
// "H000000001" at "Registry Square 1", M0001, region R01. Files: HEALTH-INSURER-1 000 and
// CITY-R01 000 from birth, and FixtureEmployer ("E0300000016", the largest employer) 030
// from 2015-09-01. Only a birth event. The derived registries know it by fixture
// identifiers too: UIN FixtureUIN ("TEST-001"), farmer FixtureFarmerID
// ("FARMER-TEST-001"), disability registry member FixtureDRMember ("DR-MEMBER-001",
// disabled: it cannot walk and has a lot of difficulty with self-care).
package synth
