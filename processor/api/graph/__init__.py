"""Microsoft Graph v1.0 over the read models, per tenant at `/tenants/{tenant}/v1.0/…`: Microsoft's SDKs and admin
scripts work against it by changing only their base URL."""
