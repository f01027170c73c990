"""Built-in tools: time, calculator, weather, web search, page reading, notes."""
