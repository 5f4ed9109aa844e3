#!/usr/bin/env bash
# Checks infra/: restores the pinned Bicep CLI (tools/bicep), builds infra/main.bicep and
# infra/main.bicepparam, lints every .bicep file, and fails on ANY diagnostic: bicep exits 0 on
# warnings, so any output at all counts as a failure. Then validates the custom connector in connector/
# (scripts/check-connector.mjs).
# Leaves the compiled templates where tests/TagStatus.InfraTests reads them:
#   .artifacts/infra/main.json             (ARM template)
#   .artifacts/infra/main.parameters.json  (parameters from main.bicepparam)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tool_project="tools/bicep/Bicep.Tools.csproj"
out_dir=".artifacts/infra"

echo "check-infra: restoring the Bicep CLI ($tool_project)"
dotnet restore "$tool_project" --verbosity quiet

version="$(sed -n 's/.*Include="Azure\.Bicep\.CommandLine\.linux-x64" Version="\[\([^]]*\)\]".*/\1/p' "$tool_project")"
if [[ -z "$version" ]]; then
  echo "check-infra: cannot read the Bicep CLI version from $tool_project" >&2
  exit 1
fi
packages="${NUGET_PACKAGES:-$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')}"
bicep="${packages%/}/azure.bicep.commandline.linux-x64/$version/tools/bicep"
if [[ ! -f "$bicep" ]]; then
  echo "check-infra: Bicep CLI not found at $bicep after restore" >&2
  exit 1
fi
[[ -x "$bicep" ]] || chmod +x "$bicep"
echo "check-infra: bicep $("$bicep" --version)"

rm -rf "$out_dir"
mkdir -p "$out_dir"

failed=0
# Runs one bicep command; any output (warnings, errors, info) or a non-zero exit fails the check.
run() {
  local output status=0
  output="$("$bicep" "$@" 2>&1)" || status=$?
  if [[ $status -ne 0 || -n "$output" ]]; then
    echo "check-infra: FAILED: bicep $* (exit $status)" >&2
    [[ -n "$output" ]] && printf '%s\n' "$output" >&2
    failed=1
  else
    echo "check-infra: ok: bicep $1 ${*: -1}"
  fi
}

run build infra/main.bicep --outfile "$out_dir/main.json"
run build-params infra/main.bicepparam --outfile "$out_dir/main.parameters.json"

mapfile -t bicep_files < <(find infra -name '*.bicep' -type f | sort)
if [[ ${#bicep_files[@]} -eq 0 ]]; then
  echo "check-infra: no .bicep files under infra/" >&2
  exit 1
fi
for file in "${bicep_files[@]}"; do
  run lint "$file"
done

# The custom connector: an independent Swagger 2.0 validator and the Power Platform schemas (npm, pinned in package-lock.json).
source scripts/lib.sh
ensure_node_tools
node scripts/check-connector.mjs || failed=1

if [[ $failed -ne 0 ]]; then
  # No template from a failed check: the infra tests must not pass on it.
  rm -rf "$out_dir"
  echo "check-infra: FAILED" >&2
  exit 1
fi
if [[ ! -s "$out_dir/main.json" ]]; then
  echo "check-infra: $out_dir/main.json was not written" >&2
  exit 1
fi
echo "check-infra: passed; ARM template at $out_dir/main.json"
