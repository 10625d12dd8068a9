"""crmql: one SQL-like language over CRM and property-management SaaS APIs."""
