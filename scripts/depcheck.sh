#!/usr/bin/env bash
# depcheck: fails when a package imports against the dependency direction of
# DESIGN.md: cmd -> api -> triggers -> engine -> steps -> templating.
# Nothing imports api or cmd; only gormstore imports gorm; only api and cmd
# import gin; the engine knows the step contract, never a step family.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)
fail=0

# rule PACKAGE-PATTERN FORBIDDEN-IMPORT-REGEX REASON
rule() {
  local pattern=$1 forbidden=$2 reason=$3 listing
  listing=$(go list -f '{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}}' "$pattern")
  while IFS= read -r line; do
    pkg=${line%% *}
    for imp in ${line#* }; do
      if [[ $imp =~ $forbidden ]]; then
        echo "depcheck: $pkg imports $imp: $reason"
        fail=1
      fi
    done
  done <<< "$listing"
}

rule "./templating/..." "^$mod/(engine|steps|triggers|api|cmd)(/|$)" "templating is the bottom layer and imports nothing of the project"
rule "./steps/..." "^$mod/(engine|triggers|api|cmd)(/|$)" "steps sit below the engine (cmd -> api -> triggers -> engine -> steps)"
rule "./engine/..." "^$mod/(triggers|api|cmd|connections)(/|$)" "the engine sits below connections, triggers, api and cmd"
rule "./engine/..." "^$mod/steps/(core|lever|catalog)(/|$)" "the engine knows the step contract (steps), never a step family"
rule "./triggers/..." "^$mod/(api|cmd)(/|$)" "triggers sit below api and cmd"
# connections (Lever accounts: sealed secrets in the engine's store, OAuth,
# token refresh) sits beside triggers: it may use the engine's store and the
# Lever client; the engine and the steps reach it only through interfaces
# they define themselves.
rule "./connections/..." "^$mod/(triggers|api|cmd)(/|$)" "connections sits below triggers, api and cmd"
rule "./steps/..." "^$mod/connections(/|$)" "steps reach connections through steps/lever.Clients, never the package"
rule "./api/..." "^$mod/cmd(/|$)" "nothing imports cmd"
# web holds the embedded editor build only: it imports nothing of the
# project, and only cmd imports it (the editor reaches the server over HTTP).
rule "./web" "^$mod/" "web holds the editor's build and imports nothing of the project"
for p in ./templating/... ./steps/... ./engine/... ./triggers/... ./connections/... ./api/...; do
  rule "$p" "^$mod/web$" "only cmd imports web (it hands the editor to api as an fs.FS)"
done

# templating: the standard library and expr only.
listing=$(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./templating/...)
while IFS= read -r line; do
  pkg=${line%% *}
  for imp in ${line#* }; do
    first=${imp%%/*}
    if [[ $first == *.* && $imp != github.com/expr-lang/expr* && $imp != "$mod/templating"* ]]; then
      echo "depcheck: $pkg imports $imp: templating may import only the standard library and expr"; fail=1
    fi
  done
done <<< "$listing"

# gorm only in gormstore; gin only in api and cmd.
listing=$(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...)
while IFS= read -r line; do
  pkg=${line%% *}
  for imp in ${line#* }; do
    if [[ $imp == gorm.io/* && $pkg != "$mod/engine/store/gormstore" ]]; then
      echo "depcheck: $pkg imports $imp: only engine/store/gormstore imports gorm"; fail=1
    fi
    if [[ $imp == github.com/gin-gonic/* && $pkg != "$mod/api"* && $pkg != "$mod/cmd"* ]]; then
      echo "depcheck: $pkg imports $imp: only api and cmd import gin"; fail=1
    fi
  done
done <<< "$listing"

if [ "$fail" = 0 ]; then echo "depcheck: dependency direction ok"; fi
exit "$fail"
