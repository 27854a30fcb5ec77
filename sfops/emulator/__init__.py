"""A local Salesforce-compatible org emulator served over HTTPS.

It imitates Salesforce (REST, Tooling, SOAP login, OAuth, Metadata API) so unmodified
clients can talk to it. Nothing outside this package imports it: other code reaches it over
HTTPS like a real org. Start it with `sfops emulator start` or `sfops.emulator.server.serve`.
"""
