console.error("virtnbdrestore: not implemented yet");
process.exitCode = 1;
