#!/usr/bin/env node
// Parses every .cls / .trigger file under the given paths (default: force-app) with the
// @apexdevtools/apex-parser ANTLR grammar and reports syntax errors as file:line:col: message.
//
// Exit codes: 0 all files parse, 1 syntax errors found, 2 usage error (bad path, no Apex files),
// 3 the parser package is not installed (run scripts/install-thirdparty.sh).
//
// The parser is looked up in APEX_PARSER_MODULES (a node_modules directory) when that is set, and
// only there; otherwise in the repo's .ci/node/node_modules, then through Node's normal resolution.
import { createRequire } from "node:module";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const EXIT_OK = 0;
const EXIT_SYNTAX = 1;
const EXIT_USAGE = 2;
const EXIT_NO_PARSER = 3;
const APEX_EXTENSIONS = new Set([".cls", ".trigger"]);
const PARSER = "@apexdevtools/apex-parser";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function loadParser() {
  const explicit = process.env.APEX_PARSER_MODULES;
  const dir = explicit || path.join(repoRoot, ".ci", "node", "node_modules");
  if (existsSync(path.join(dir, PARSER, "package.json"))) {
    // createRequire needs a file path next to the node_modules directory we resolve from.
    return createRequire(path.join(dir, "..", "noop.js"))(PARSER);
  }
  if (explicit) return null;
  try {
    return createRequire(import.meta.url)(PARSER);
  } catch {
    return null;
  }
}

function collectApexFiles(target, out) {
  const stat = statSync(target);
  if (stat.isFile()) {
    if (APEX_EXTENSIONS.has(path.extname(target))) out.push(target);
    return;
  }
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    collectApexFiles(path.join(target, entry.name), out);
  }
}

// ANTLR lists every token it could have accepted; a few hundred keywords help nobody.
function shorten(msg) {
  return msg.replace(/expecting \{([^}]*)\}/, (whole, alternatives) => {
    const items = alternatives.split(", ");
    return items.length > 8 ? `expecting one of ${items.slice(0, 8).join(", ")}, ... (${items.length} alternatives)` : whole;
  });
}

function checkFile(parserModule, file) {
  const { ApexParserFactory, ApexErrorListener } = parserModule;
  const errors = [];
  class Collector extends ApexErrorListener {
    apexSyntaxError(line, column, msg) {
      // ANTLR columns are 0-based; editors and compilers count from 1.
      errors.push({ line, column: column + 1, msg: shorten(msg) });
    }
  }
  const source = readFileSync(file, "utf8");
  const { parser } = ApexParserFactory.createLexerAndParser(source, new Collector());
  if (file.endsWith(".trigger")) parser.triggerUnit();
  else parser.compilationUnit();
  return errors;
}

function main(argv) {
  const targets = argv.length ? argv : [path.join(repoRoot, "force-app")];
  const parserModule = loadParser();
  if (!parserModule) {
    console.error(`check_apex_syntax: ${PARSER} is not installed; run scripts/install-thirdparty.sh`);
    return EXIT_NO_PARSER;
  }
  const files = [];
  for (const target of targets) {
    if (!existsSync(target)) {
      console.error(`check_apex_syntax: no such path: ${target}`);
      return EXIT_USAGE;
    }
    collectApexFiles(target, files);
  }
  if (files.length === 0) {
    console.error(`check_apex_syntax: no .cls or .trigger files under ${targets.join(", ")}`);
    return EXIT_USAGE;
  }
  let failures = 0;
  for (const file of files.sort()) {
    for (const err of checkFile(parserModule, file)) {
      failures += 1;
      console.log(`${path.relative(process.cwd(), file)}:${err.line}:${err.column}: ${err.msg}`);
    }
  }
  console.log(`check_apex_syntax: ${files.length} file(s) parsed, ${failures} syntax error(s)`);
  return failures ? EXIT_SYNTAX : EXIT_OK;
}

process.exitCode = main(process.argv.slice(2));
