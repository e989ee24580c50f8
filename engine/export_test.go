package engine

import "time"

// SetOnTick makes the engine call f after each round of its poll loop; set
// it before Start.
func SetOnTick(e *Engine, f func()) { e.onTick = f }

// SetNotifyBackoff sets the wait before a failure webhook's second attempt;
// set it before Start.
func SetNotifyBackoff(e *Engine, d time.Duration) { e.notifyBackoff = d }
