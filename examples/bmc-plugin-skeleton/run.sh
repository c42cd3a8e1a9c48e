#!/usr/bin/env bash
# The BMC plugin skeleton, used the way a vendor would: installed as a published package that bundles its own
# copy of @metal/core, an Acme BMC (emulator.js) on loopback, then `metal plugins`, `metal bmc power` and the
# shared conformance suite (`metal bmc conformance`), which must pass.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"

# 1. "npm install" the plugin: its files, and its own copy of @metal/core (the plugin contract it imports).
plugin="$work/metal-bmc-acme"
mkdir -p "$plugin/node_modules/@metal/core/dist/src"
cp "$here"/{package.json,index.js,driver.js,emulator.js,metal.yaml} "$plugin/"
cp "$repo/packages/core/package.json" "$plugin/node_modules/@metal/core/"
cp -r "$repo/packages/core/dist/src/plugin-api" "$plugin/node_modules/@metal/core/dist/src/"
cd "$plugin"

# 2. The BMC: a password file (mode 0600, never on a command line) and the emulator.
(umask 077 && printf 'acme-secret\n' >bmc.pw)
start emulator node emulator.js bmc.pw
bmc="$(wait_for emulator '^acme-bmc listening on ' 30 | sed 's/^acme-bmc listening on //')"
bmcargs=(--protocol acme --bmc "$bmc" --user admin --password-file bmc.pw -c metal.yaml)

# 3. metal finds it (plugins.load in metal.yaml), drives the BMC, and runs the conformance suite.
metal plugins -c metal.yaml -f value --column name --column status
metal bmc power on "${bmcargs[@]}"
metal bmc power status "${bmcargs[@]}"
metal bmc info "${bmcargs[@]}" -f value --column manufacturer --column model
metal bmc conformance "${bmcargs[@]}"
