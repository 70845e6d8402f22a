// Entry point the Cockpit UI spawns (as root): one subcommand per request, JSON on stdout.
console.log(JSON.stringify({ error: "not implemented yet" }));
process.exitCode = 1;
