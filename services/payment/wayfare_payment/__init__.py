"""Wayfare's payment service: payments, refunds, invoices, the vendor ledger and payouts."""
