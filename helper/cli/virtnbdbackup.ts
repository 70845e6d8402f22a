console.error("virtnbdbackup: not implemented yet");
process.exitCode = 1;
