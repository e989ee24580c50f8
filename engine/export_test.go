package engine

// SetOnTick makes the engine call f after each round of its poll loop; set
// it before Start.
func SetOnTick(e *Engine, f func()) { e.onTick = f }
