"""Microsoft Graph snapshots of a real tenant: their format, writing one with msgraph-sdk, importing one as input
events, and comparing our decisions with the licence states Entra reported (conformance)."""
