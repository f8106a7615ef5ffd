// promrules checks Prometheus rules and PromQL with Prometheus's own code (the pinned
// github.com/prometheus/prometheus module): the rule-file loader (model/rulefmt, which also parses
// every expression and template), the PromQL parser (promql/parser), and the rule manager
// (rules) evaluated over series written in the expanding notation of promtool's unit tests.
//
//	promrules --version
//	promrules check-rules FILE...   rule files (groups: ...); stdout: JSON per file
//	    {"file": F, "errors": [...], "rules": [{"group", "alert"|"record", "expr", "metrics": [...]}]}
//	promrules parse-exprs            stdin: JSON list of PromQL strings; stdout: JSON list, one per
//	    input, {"error": "..."} or {"metrics": [...]} (metric names the expression selects)
//	promrules test FILE...          promtool unit-test files (a subset, below); one line per
//	    failure on stdout
//
// Test files take the keys promtool documents for alert tests: rule_files (relative to the test
// file), evaluation_interval, tests[].{name, interval, input_series[].{series, values},
// alert_rule_test[].{eval_time, alertname, exp_alerts[].{exp_labels, exp_annotations}}}. Any other
// key is an error, so a test cannot silently check less than it says.
//
// Exit status: 0 all good, 1 a check failed, 2 usage or unreadable input.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

const libraryModule = "github.com/prometheus/prometheus"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// metricNames: the metric names an expression selects (by name or by a __name__ equality matcher).
func metricNames(expr parser.Expr) []string {
	seen := map[string]bool{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			if vs.Name != "" {
				seen[vs.Name] = true
			}
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
					seen[m.Value] = true
				}
			}
		}
		return nil
	})
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type ruleOut struct {
	Group   string   `json:"group"`
	Alert   string   `json:"alert,omitempty"`
	Record  string   `json:"record,omitempty"`
	Expr    string   `json:"expr"`
	Metrics []string `json:"metrics"`
}

type fileOut struct {
	File   string    `json:"file"`
	Errors []string  `json:"errors"`
	Rules  []ruleOut `json:"rules"`
}

func checkRules(files []string) int {
	p := newParser()
	status := 0
	var out []fileOut
	for _, f := range files {
		fo := fileOut{File: f, Errors: []string{}, Rules: []ruleOut{}}
		groups, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, p, quiet)
		for _, err := range errs {
			fo.Errors = append(fo.Errors, err.Error())
		}
		if groups != nil && len(errs) == 0 {
			for _, g := range groups.Groups {
				for _, r := range g.Rules {
					expr, err := p.ParseExpr(r.Expr)
					if err != nil { // rulefmt has already refused it; kept for safety
						fo.Errors = append(fo.Errors, err.Error())
						continue
					}
					fo.Rules = append(fo.Rules, ruleOut{Group: g.Name, Alert: r.Alert, Record: r.Record, Expr: r.Expr, Metrics: metricNames(expr)})
				}
			}
		}
		if len(fo.Errors) > 0 {
			status = 1
		}
		out = append(out, fo)
	}
	writeJSON(out)
	return status
}

type exprOut struct {
	Error   string   `json:"error,omitempty"`
	Metrics []string `json:"metrics,omitempty"`
}

func parseExprs(in io.Reader) int {
	var exprs []string
	if err := json.NewDecoder(in).Decode(&exprs); err != nil {
		fmt.Fprintf(os.Stderr, "promrules parse-exprs: stdin must be a JSON list of strings: %v\n", err)
		return 2
	}
	p := newParser()
	status := 0
	out := make([]exprOut, len(exprs))
	for i, s := range exprs {
		expr, err := p.ParseExpr(s)
		if err != nil {
			out[i] = exprOut{Error: err.Error()}
			status = 1
			continue
		}
		out[i] = exprOut{Metrics: metricNames(expr)}
	}
	writeJSON(out)
	return status
}

func writeJSON(v any) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func libraryVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == libraryModule {
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: promrules --version | check-rules FILE... | parse-exprs | test FILE...")
		os.Exit(2)
	}
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "--version", "version":
		fmt.Printf("promrules (%s %s)\n", libraryModule, libraryVersion())
	case "check-rules":
		os.Exit(checkRules(args))
	case "parse-exprs":
		os.Exit(parseExprs(os.Stdin))
	case "test":
		os.Exit(runTests(args))
	default:
		fmt.Fprintf(os.Stderr, "promrules: unknown command %q\n", cmd)
		os.Exit(2)
	}
}
