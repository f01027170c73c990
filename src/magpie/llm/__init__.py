"""Language models: built from `provider:model` strings, the offline model, token counting."""
