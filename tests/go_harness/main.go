// Command go_harness renders runbook templates the way Hoop does, with Go's real
// text/template, so tests/test_gotemplate_differential.py can compare the Python emulator
// against it byte for byte.
//
// It reimplements, in a few lines and with the standard library only, what Hoop's
// common/runbooks/templates.go and template_funcs.go do: the function map, the rule that
// every top-level action starts with an input field, and the check that inputs without a
// non-empty default are given. Missing inputs are sorted (Hoop lists them in random order).
//
// Protocol: one JSON request per line on stdin, {"src": base64, "inputs": {name: base64} or
// null}; one JSON response per line on stdout, {"ok": true, "out": base64} or
// {"ok": false, "err": base64}.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"
)

type request struct {
	Src    string            `json:"src"`
	Inputs map[string]string `json:"inputs"`
}

type response struct {
	Out string `json:"out,omitempty"`
	Err string `json:"err,omitempty"`
	OK  bool   `json:"ok"`
}

func second(_, s string) string { return s }

func hoopFuncs() template.FuncMap {
	return template.FuncMap{
		"required": func(msg, s string) (string, error) {
			if s == "" {
				return "", errors.New(msg) // as Hoop: the message is not a format
			}
			return s, nil
		},
		"default": func(d, s string) string {
			if s == "" {
				return d
			}
			return s
		},
		"pattern": func(p, s string) (string, error) {
			ok, err := regexp.Match(p, []byte(s))
			if err != nil {
				return "", fmt.Errorf("regexp error: %v", err)
			}
			if !ok {
				return "", fmt.Errorf("pattern didn't match:%s", p)
			}
			return s, nil
		},
		"placeholder": second,
		"description": second,
		"type":        second,
		"minlength":   second,
		"maxlength":   second,
		"order":       second,
		"options": func(v ...string) string {
			if len(v) == 0 {
				return ""
			}
			return v[len(v)-1]
		},
		"squote":    func(s string) string { return "'" + s + "'" },
		"dquote":    func(s string) string { return `"` + s + `"` },
		"quotechar": func(c, s string) string { return c + s + c },
		"encodeb64": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"decodeb64": func(s string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(s)
			return string(b), err
		},
		"asenv": func(_, _ string) string { return "" },
	}
}

var inputKey = regexp.MustCompile(`^{{\.[a-zA-Z0-9_]+`)

// defaultOf is the "default" attribute Hoop reads from an action's text: the value of the
// last "default" section, split on " | " and spaces, quotes removed.
func defaultOf(action string) string {
	def := ""
	for _, section := range strings.Split(action[2:len(action)-2], " | ") {
		parts := strings.Split(section, " ")
		if parts[0] != "default" {
			continue
		}
		def = ""
		if len(parts) > 1 {
			def = strings.ReplaceAll(strings.TrimSpace(strings.Join(parts[1:], " ")), `"`, "")
		}
	}
	return def
}

func render(src string, inputs map[string]string) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
	}()
	t, err := template.New("").Funcs(hoopFuncs()).Parse(src)
	if err != nil {
		return "", err
	}
	defaults := map[string]string{}
	for _, node := range t.Tree.Root.Nodes {
		if node.Type() != parse.NodeAction {
			continue
		}
		findings := inputKey.FindAllString(node.String(), -1)
		if len(findings) != 1 {
			return "", fmt.Errorf("inconsistent findings, findings=%v, val=%v", len(findings), findings)
		}
		defaults[strings.TrimSpace(findings[0])[3:]] = defaultOf(node.String())
	}
	values := map[string]string{}
	for k, v := range inputs {
		values[k] = v
	}
	var missing []string
	for key, def := range defaults {
		if _, ok := values[key]; ok {
			continue
		}
		if def != "" {
			values[key] = ""
			continue
		}
		missing = append(missing, key)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", fmt.Errorf("the following inputs are missing %v", missing)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, values); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func decodeInputs(encoded map[string]string) (map[string]string, error) {
	if encoded == nil {
		return nil, nil
	}
	inputs := map[string]string{}
	for k, v := range encoded {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, err
		}
		inputs[k] = string(b)
	}
	return inputs, nil
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			os.Exit(2)
		}
		src, err := base64.StdEncoding.DecodeString(req.Src)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad src:", err)
			os.Exit(2)
		}
		inputs, err := decodeInputs(req.Inputs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad inputs:", err)
			os.Exit(2)
		}
		out, err := render(string(src), inputs)
		resp := response{OK: err == nil}
		if err != nil {
			resp.Err = base64.StdEncoding.EncodeToString([]byte(err.Error()))
		} else {
			resp.Out = base64.StdEncoding.EncodeToString([]byte(out))
		}
		if err := enc.Encode(resp); err != nil {
			os.Exit(3)
		}
	}
}
