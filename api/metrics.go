package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/triggers"
)

// LeverStats gives the Lever clients' counters, added up over every
// connection; the server's wiring satisfies it (optional: without it the
// Lever series are not exported).
type LeverStats interface {
	LeverStats() client.Stats
}

// scrapeTimeout bounds the store read of one scrape.
const scrapeTimeout = 5 * time.Second

// Metrics holds Leverflow's Prometheus series in a registry of its own
// (never the global one), served at GET /metrics:
//
//   - leverflow_runs_finished_total{workflow_id,status}
//   - leverflow_step_duration_seconds{type,status} (histogram)
//   - leverflow_queue_depth (queued runs, counted at scrape time)
//   - leverflow_webhooks_total{connection,result,reason}: result accepted,
//     duplicate or rejected (reason set only then); connection is "" until
//     it is known to exist
//   - leverflow_lever_requests_total{status} ("error" for network
//     failures) and leverflow_lever_rate_limit_waits_total, read from
//     LeverStats at scrape time
//   - leverflow_http_requests_total{route,method,status} and
//     leverflow_http_request_duration_seconds{route,method} (histogram),
//     by route pattern, never the raw path
//
// plus the Go runtime and process collectors. It implements
// engine.Observer and triggers.Metrics: pass one value to
// engine.Options.Observer, triggers.ReceiverConfig.Metrics and
// api.Config.Metrics. Its methods are safe for concurrent use and never
// block.
type Metrics struct {
	reg          *prometheus.Registry
	runsFinished *prometheus.CounterVec
	stepDuration *prometheus.HistogramVec
	webhooks     *prometheus.CounterVec
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	queue atomic.Pointer[queueSource]
	lever atomic.Pointer[leverSource]
}

type queueSource struct {
	store store.Store
	log   *slog.Logger
}

type leverSource struct{ stats LeverStats }

var (
	_ engine.Observer  = (*Metrics)(nil)
	_ triggers.Metrics = (*Metrics)(nil)
)

// NewMetrics returns Metrics with every series registered.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leverflow_runs_finished_total",
			Help: "Runs that finished (succeeded, failed or cancelled), by workflow and status.",
		}, []string{"workflow_id", "status"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leverflow_step_duration_seconds",
			Help:    "How long step runs took, from their start to their end, by step type and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"type", "status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leverflow_webhooks_total",
			Help: "Lever webhook deliveries by connection and result (accepted, duplicate, rejected with a reason).",
		}, []string{"connection", "result", "reason"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leverflow_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leverflow_http_request_duration_seconds",
			Help:    "How long HTTP requests took to answer, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	m.reg.MustRegister(m.runsFinished, m.stepDuration, m.webhooks, m.httpRequests, m.httpDuration,
		&scrapeCollector{m: m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the series are in, to add more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// watch sets where the scrape-time series are read from: the queue depth
// from st, the Lever counters from ls (nil: none).
func (m *Metrics) watch(st store.Store, ls LeverStats, log *slog.Logger) {
	m.queue.Store(&queueSource{store: st, log: log})
	if ls != nil {
		m.lever.Store(&leverSource{stats: ls})
	}
}

// RunFinished implements engine.Observer.
func (m *Metrics) RunFinished(run *workflow.Run) {
	m.runsFinished.WithLabelValues(run.WorkflowID, string(run.Status)).Inc()
}

// StepFinished implements engine.Observer. A step that never started
// (skipped) has no duration and is observed as 0.
func (m *Metrics) StepFinished(stepType string, step *workflow.StepRun) {
	d := 0.0
	if step.StartedAt != nil && step.FinishedAt != nil {
		d = max(step.FinishedAt.Sub(*step.StartedAt).Seconds(), 0)
	}
	m.stepDuration.WithLabelValues(stepType, string(step.Status)).Observe(d)
}

// WebhookAccepted implements triggers.Metrics.
func (m *Metrics) WebhookAccepted(connection string) {
	m.webhooks.WithLabelValues(connection, "accepted", "").Inc()
}

// WebhookDuplicate implements triggers.Metrics.
func (m *Metrics) WebhookDuplicate(connection string) {
	m.webhooks.WithLabelValues(connection, "duplicate", "").Inc()
}

// WebhookRejected implements triggers.Metrics.
func (m *Metrics) WebhookRejected(connection, reason string) {
	m.webhooks.WithLabelValues(connection, "rejected", reason).Inc()
}

// observeHTTP counts one answered request.
func (m *Metrics) observeHTTP(route, method string, status int, took time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

var (
	queueDepthDesc = prometheus.NewDesc("leverflow_queue_depth",
		"Runs queued and not yet started, counted at scrape time.", nil, nil)
	leverRequestsDesc = prometheus.NewDesc("leverflow_lever_requests_total",
		"HTTP attempts made to Lever, retries included, by status (\"error\" for network failures).", []string{"status"}, nil)
	leverWaitsDesc = prometheus.NewDesc("leverflow_lever_rate_limit_waits_total",
		"Lever attempts that had to wait for the rate limiter.", nil, nil)
)

// scrapeCollector reads the series that are counted at scrape time.
type scrapeCollector struct{ m *Metrics }

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- leverRequestsDesc
	ch <- leverWaitsDesc
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	if q := c.m.queue.Load(); q != nil {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		n, err := q.store.CountRuns(ctx, workflow.RunQueued)
		cancel()
		if err != nil {
			// Leave the series out of this scrape rather than report a
			// wrong depth.
			q.log.Warn("counting queued runs for /metrics failed", "error", err)
		} else {
			ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(n))
		}
	}
	if l := c.m.lever.Load(); l != nil {
		st := l.stats.LeverStats()
		for status, n := range st.ByStatus {
			label := strconv.Itoa(status)
			if status == 0 {
				label = "error"
			}
			ch <- prometheus.MustNewConstMetric(leverRequestsDesc, prometheus.CounterValue, float64(n), label)
		}
		ch <- prometheus.MustNewConstMetric(leverWaitsDesc, prometheus.CounterValue, float64(st.RateLimitWaits))
	}
}

// serveMetrics returns GET /metrics: the Prometheus text format, no
// token.
func (s *Server) serveMetrics() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

// httpMethods are the methods counted under their own name; any other is
// "other", so made-up methods cannot grow the label set.
var httpMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// countRequests is the middleware that counts every request by route
// pattern, method and status.
func (s *Server) countRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	method := c.Request.Method
	if !httpMethods[method] {
		method = "other"
	}
	s.metrics.observeHTTP(routeOf(c), method, c.Writer.Status(), time.Since(start))
}
