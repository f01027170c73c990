"""Front doors for updates (long polling, webhook), the durable inbox, per-chat ordering."""
