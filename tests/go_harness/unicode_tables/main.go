// Command unicode_tables writes hoophooks_dk/gotemplate/unicode_tables.py: the Unicode tables
// Go's regexp uses for \p{...} (unicode.Categories, unicode.Scripts, their fold tables and
// unicode.CategoryAliases),
// so the kit matches Go's Unicode version exactly rather than RE2's.
//
// Run with the Go Hoop builds with (see .ci/run):
//
//	GO111MODULE=off go run tests/go_harness/unicode_tables/main.go > hoophooks_dk/gotemplate/unicode_tables.py
package main

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

func ranges(t *unicode.RangeTable) string {
	var parts []string
	add := func(lo, hi, stride uint32) {
		for r := lo; r <= hi; r += stride {
			end := r
			if stride == 1 {
				end = hi
			}
			n := len(parts)
			var plo, phi uint32
			if n > 0 {
				fmt.Sscanf(parts[n-1], "%x-%x", &plo, &phi)
			}
			if n > 0 && phi+1 == r {
				parts[n-1] = fmt.Sprintf("%x-%x", plo, end)
			} else {
				parts = append(parts, fmt.Sprintf("%x-%x", r, end))
			}
			if stride == 1 {
				break
			}
		}
	}
	for _, r := range t.R16 {
		add(uint32(r.Lo), uint32(r.Hi), uint32(r.Stride))
	}
	for _, r := range t.R32 {
		add(r.Lo, r.Hi, r.Stride)
	}
	return strings.Join(parts, " ")
}

func dump(name string, tables map[string]*unicode.RangeTable) {
	keys := make([]string, 0, len(tables))
	for k := range tables {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Printf("%s = {\n", name)
	for _, k := range keys {
		fmt.Printf("    %q: %q,\n", k, ranges(tables[k]))
	}
	fmt.Printf("}\n")
}

func main() {
	fmt.Printf("\"\"\"Go %s's Unicode tables (Unicode %s) for regexp's \\\\p{...}: generated, do not edit.\n\n", "1.26", unicode.Version)
	fmt.Printf("Made by tests/go_harness/unicode_tables/main.go from Go's package unicode; each value is\n")
	fmt.Printf("the table's code point ranges, hexadecimal \"lo-hi\" pairs separated by spaces.\n\"\"\"\n\n")
	fmt.Printf("# ruff: noqa: E501\n\nVERSION = %q\n\n", unicode.Version)
	dump("CATEGORIES", unicode.Categories)
	fmt.Println()
	dump("SCRIPTS", unicode.Scripts)
	fmt.Println()
	dump("FOLD_CATEGORY", unicode.FoldCategory)
	fmt.Println()
	dump("FOLD_SCRIPT", unicode.FoldScript)
	fmt.Println()
	aliases := make([]string, 0, len(unicode.CategoryAliases))
	for k := range unicode.CategoryAliases {
		aliases = append(aliases, k)
	}
	sort.Strings(aliases)
	fmt.Printf("CATEGORY_ALIASES = {\n")
	for _, k := range aliases {
		fmt.Printf("    %q: %q,\n", k, unicode.CategoryAliases[k])
	}
	fmt.Printf("}\n")
}
