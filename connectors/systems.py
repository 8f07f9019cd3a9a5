"""The source systems Groundswell has connectors for."""

API_SYSTEMS = ("shopify", "quickbooks", "netsuite", "odoo", "xero", "businesscentral")
FILE_SYSTEMS = ("csv", "x12")
