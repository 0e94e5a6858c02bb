#!/usr/bin/env node
// The committed entry point of kfm-migrate: npm links it at install time even before dist/ is built
// (a bin pointing into dist/ would not be linked on a fresh clone), and it loads the built CLI.
import '../dist/cli.js';
