package main

import "regexp"

// allowed lists the skips scripts/test accepts: a test (regular expression on its name,
// subtests included) skipping with a reason (regular expression on the message it gives),
// and why that is fine. Any other skip fails scripts/test: a test that must run and does
// not is a failure, not a footnote.
var allowed = []struct {
	test, reason *regexp.Regexp
	why          string
}{
	{re(`/postgres(/|$)`), re(`^CROSSROADS_TEST_POSTGRES not set$`),
		"no PostgreSQL: scripts/test sets it when PostgreSQL answers on 127.0.0.1:5432"},
	{re(`^(TestAuditReplicas|TestLeases|TestLeaseConfirm|TestSettledEventSeq|TestClaims|TestReplicas)$`), re(`^CROSSROADS_TEST_POSTGRES not set`),
		"no PostgreSQL: the replicas of the hub share one PostgreSQL database (#17), which scripts/test names when it answers"},
	{re(`^TestReplicas$`), re(`^builds and runs the binary twice; not in -short$`),
		"asked for with -short"},
	{re(`^(TestRollingRestart|TestClusterDemo)$`), re(`^CROSSROADS_TEST_POSTGRES not set`),
		"no PostgreSQL: the replicas of a cluster share one PostgreSQL database (#17), which scripts/test names when it answers"},
	{re(`^(TestCluster|TestRollingRestart|TestClusterDemo)$`), re(`not in -short$`),
		"asked for with -short"},
	{re(`^TestMemStore/Ranges$`), re(`^the store is not an audit\.Scanner`),
		"the in-memory reference store is verified record by record; the parallel ranges' suite runs on SQLite and PostgreSQL (internal/sqlstore)"},
	{re(`^TestMillion$`), re(`CROSSROADS_SYNTH_BIG=1`),
		"the 1,000,000-person figure, run on demand"},
	{re(`^(TestKillUnderLoad|TestKillDuringDeliveries|TestReadyDuringBatch|TestSQLite)$`), re(`^builds and kills the binary; not in -short$|^loads a large batch$|^writes SQLite files$`),
		"asked for with -short"},
	{re(`^(TestSpecsLoad|TestValidatorCatchesErrors|TestDecodeSamples|TestSampleExpressionsParse|TestSamplesAreNotSchemaValid|TestFROnSubscribeRepaired|TestRegistriesAgreeWithDocuments)$`), re(`^dcitest: DCI (specs|samples) not found`),
		"tests of the DCI documents themselves, which live outside the repository (../shared/dci)"},
	{re(`^TestBrowser$`), re(`^browser test: `),
		"the portal's browser test (#20) needs Chromium, node and e2e/node_modules (playwright-core), which scripts/test installs when it can (apt-get, npm ci)"},
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// allowedSkip says why test may skip with reason, if it may.
func allowedSkip(test, reason string) (string, bool) {
	for _, a := range allowed {
		if a.test.MatchString(test) && a.reason.MatchString(reason) {
			return a.why, true
		}
	}
	return "", false
}
