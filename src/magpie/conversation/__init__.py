"""One assistant turn: whether to answer, what the model sees, how the reply is delivered."""
