"""Rate limits: what Magpie may send to Telegram (outgoing) and what one person may ask of it
(per-user). Rules and in-memory twins here; Redis versions for several processes beside them.
No aiogram, no SQL."""
