package main

// Alert unit tests: series are loaded into the in-memory storage of promql/promqltest's LazyLoader,
// the rule files are loaded by the rule manager Prometheus itself runs (rules.Manager.LoadGroups),
// every group is evaluated at each evaluation_interval step from 0 to the last eval_time (so `for:`
// and pending state behave as in a server), and at each eval_time the firing alerts of the named
// rule must be exactly the expected ones, labels and annotations both.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"go.yaml.in/yaml/v2"
)

type testFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	Tests              []testGroup    `yaml:"tests"`
}

type testGroup struct {
	Name        string         `yaml:"name"`
	Interval    model.Duration `yaml:"interval"`
	InputSeries []series       `yaml:"input_series"`
	AlertTests  []alertTest    `yaml:"alert_rule_test"`
}

type series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTest struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []expAlert     `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

func runTests(files []string) int {
	status := 0
	for _, f := range files {
		problems, err := runFile(f)
		if err != nil {
			fmt.Printf("%s: %v\n", f, err)
			status = 1
			continue
		}
		for _, p := range problems {
			fmt.Printf("%s: %s\n", f, p)
			status = 1
		}
	}
	return status
}

func runFile(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tf testFile
	if err := yaml.UnmarshalStrict(raw, &tf); err != nil {
		return nil, err
	}
	if len(tf.RuleFiles) == 0 || len(tf.Tests) == 0 {
		return nil, fmt.Errorf("rule_files and tests are required")
	}
	evalInterval := time.Duration(tf.EvaluationInterval)
	if evalInterval == 0 {
		evalInterval = time.Minute
	}
	ruleFiles := make([]string, len(tf.RuleFiles))
	for i, rf := range tf.RuleFiles {
		if !filepath.IsAbs(rf) {
			rf = filepath.Join(filepath.Dir(path), rf)
		}
		ruleFiles[i] = rf
	}
	var problems []string
	for i, tg := range tf.Tests {
		name := tg.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		ps, err := tg.run(evalInterval, ruleFiles)
		if err != nil {
			return nil, fmt.Errorf("test %s: %w", name, err)
		}
		for _, p := range ps {
			problems = append(problems, fmt.Sprintf("test %s: %s", name, p))
		}
	}
	return problems, nil
}

func (tg testGroup) loadCommand() string {
	interval := time.Duration(tg.Interval)
	if interval == 0 {
		interval = time.Minute
	}
	var b strings.Builder
	fmt.Fprintf(&b, "load %s\n", model.Duration(interval))
	for _, s := range tg.InputSeries {
		fmt.Fprintf(&b, "  %s %s\n", s.Series, s.Values)
	}
	return b.String()
}

type alertSeen struct {
	Labels      labels.Labels
	Annotations labels.Labels
}

func (a alertSeen) String() string { return fmt.Sprintf("%s %s", a.Labels, a.Annotations) }

func describe(alerts []alertSeen) string {
	parts := make([]string, len(alerts))
	for i, a := range alerts {
		parts[i] = a.String()
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, ", ") + "]"
}

func (tg testGroup) run(evalInterval time.Duration, ruleFiles []string) ([]string, error) {
	p := newParser()
	suite, err := promqltest.NewLazyLoader(tg.loadCommand(), promqltest.LazyLoaderOpts{
		EnableAtModifier: true, EnableNegativeOffset: true, Parser: p,
	})
	if err != nil {
		return nil, err
	}
	defer suite.Close()
	suite.SubqueryInterval = evalInterval

	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(suite.QueryEngine(), suite.Storage()),
		AppendableV2: suite.Storage(),
		Context:      context.Background(),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       quiet,
		Parser:       p,
	})
	groups, errs := m.LoadGroups(evalInterval, labels.EmptyLabels(), "", nil, false, ruleFiles...)
	if len(errs) > 0 {
		var b bytes.Buffer
		for _, e := range errs {
			fmt.Fprintln(&b, e)
		}
		return nil, fmt.Errorf("loading rules: %s", strings.TrimSpace(b.String()))
	}
	names := make([]string, 0, len(groups))
	for k := range groups {
		names = append(names, k)
	}
	sort.Strings(names)

	byTime := map[time.Duration][]alertTest{}
	var last time.Duration
	known := map[string]bool{}
	for _, k := range names {
		for _, r := range groups[k].Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				known[ar.Name()] = true
			}
		}
	}
	for _, at := range tg.AlertTests {
		if !known[at.Alertname] {
			return nil, fmt.Errorf("alertname %q is not a rule of %v", at.Alertname, ruleFiles)
		}
		t := time.Duration(at.EvalTime)
		if t%evalInterval != 0 {
			return nil, fmt.Errorf("eval_time %s is not a multiple of evaluation_interval %s", model.Duration(t), model.Duration(evalInterval))
		}
		byTime[t] = append(byTime[t], at)
		if t > last {
			last = t
		}
	}

	var problems []string
	start := time.Unix(0, 0).UTC()
	for step := time.Duration(0); step <= last; step += evalInterval {
		ts := start.Add(step)
		var loadErr error
		suite.WithSamplesTill(ts, func(err error) {
			if err != nil {
				loadErr = err
				return
			}
			for _, k := range names {
				groups[k].Eval(suite.Context(), ts)
			}
		})
		if loadErr != nil {
			return nil, loadErr
		}
		for _, at := range byTime[step] {
			var got []alertSeen
			for _, k := range names {
				for _, r := range groups[k].Rules() {
					ar, ok := r.(*rules.AlertingRule)
					if !ok || ar.Name() != at.Alertname {
						continue
					}
					for _, a := range ar.ActiveAlerts() {
						if a.State == rules.StateFiring {
							got = append(got, alertSeen{a.Labels.Copy(), a.Annotations.Copy()})
						}
					}
				}
			}
			var want []alertSeen
			for _, e := range at.ExpAlerts {
				l := map[string]string{labels.AlertName: at.Alertname}
				for k, v := range e.ExpLabels {
					l[k] = v
				}
				want = append(want, alertSeen{labels.FromMap(l), labels.FromMap(e.ExpAnnotations)})
			}
			if describe(got) != describe(want) {
				problems = append(problems, fmt.Sprintf("alert %s at %s:\n  want %s\n  got  %s",
					at.Alertname, model.Duration(step), describe(want), describe(got)))
			}
		}
	}
	return problems, nil
}
