"""Money: the ledger, prices, quotas and Telegram Stars (no aiogram, no SQL: see ports)."""
