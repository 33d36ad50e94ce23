package hub

// EnsureDemoClients lets the external tests write a nation's demo clients.
var EnsureDemoClients = ensureDemoClients
