package engine

import (
	"context"
	"time"
)

// The cancel watch: a cancel requested through another engine only sets the
// run's cancel_requested flag in the store; the heartbeat (every Lease/3,
// 10s by default) would see it eventually, but a cancel should take effect
// within a second. So every started engine asks its store every Options.CancelPoll (500ms by default) which
// of the runs it holds have a cancel requested, a read by primary key of
// the held ids only (nothing when it holds none), and cancels those at
// once: the runner cancels its steps' contexts (http.request gives up its
// request) and commits the run cancelled.

// defaultCancelPoll is Options.CancelPoll's default.
const defaultCancelPoll = 500 * time.Millisecond

// startCancelWatch starts the cancel watch loop unless it is turned off or
// the store cannot answer it. The caller holds e.mu (Start).
func (e *Engine) startCancelWatch() {
	poll := e.opts.CancelPoll
	if poll == 0 {
		poll = defaultCancelPoll
	}
	if poll < 0 {
		return
	}
	e.loopsDone.Add(1)
	go e.every(poll, func() { e.watchCancels(poll) })
}

// watchCancels asks the store once which held runs have a cancel requested
// and cancels their runners.
func (e *Engine) watchCancels(poll time.Duration) {
	e.mu.Lock()
	ids := make([]string, 0, len(e.runners))
	for id, r := range e.runners {
		if !r.cancelRequested() {
			ids = append(ids, id)
		}
	}
	e.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	// A slow read must not pile up behind the next tick.
	ctx, cancel := context.WithTimeout(context.Background(), max(poll, time.Second))
	defer cancel()
	asked, err := e.store.CancelRequests(ctx, e.opts.WorkerID, ids)
	if err != nil {
		e.log.Warn("watching for cancels", "error", err)
		return
	}
	for _, id := range asked {
		e.mu.Lock()
		r := e.runners[id]
		e.mu.Unlock()
		if r != nil {
			e.log.Info("cancel requested through another engine", "run_id", id)
			r.requestCancel()
		}
	}
}
