// node `pg` (pure JavaScript, no pg-native, no libpq), through `herokupq proxy`.
//
//   node proxy_node_pg.js HOST PORT USER DBNAME [CTRLDIR]
//
// `pg` is found through NODE_PATH (build/node/node_modules, installed by
// scripts/install-node-deps.sh). The protocol, output lines and CTRLDIR files
// are the proxy drivers' (tests/clients/proxy_asyncpg.py says them in full):
//   ok user=<current_user> db=<current_database> ssl=<t|f>  |  error <message>
//   with CTRLDIR: rounds of a held and a new connection until CTRLDIR/stop,
//   then `done rounds=N held_errors=N new_errors=N held_backends=N`.
'use strict';
const fs = require('fs');
const path = require('path');

const WHOAMI = 'SELECT current_user, current_database(), ssl ' +
    'FROM pg_stat_ssl WHERE pid = pg_backend_pid()';
const ROUND_PAUSE_MS = 50;
const CONNECT_TIMEOUT_MS = 15000;

const oneLine = (text) => String(text).split(/\s+/).filter(Boolean).join(' ') || '(no message)';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let pg;
try {
  pg = require('pg');
} catch (err) {
  console.log(`error not installed (npm pg: scripts/install-node-deps.sh, NODE_PATH=build/node/node_modules): ${oneLine(err.message)}`);
  process.exit(1);
}

async function connect([host, port, user, database]) {
  // No TLS to the local proxy (ssl: false); its hop to the database has TLS.
  const client = new pg.Client({
    host, port: Number(port), user, database, ssl: false,
    password: process.env.PGPASSWORD || undefined,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A session ended by the server emits 'error' on an idle client: the next
  // query reports it, so only keep node from treating it as unhandled.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    client.end().catch(() => {});
    throw err;
  }
  return client;
}

async function whoami(client) {
  const { rows } = await client.query({ text: WHOAMI, rowMode: 'array' });
  if (rows.length === 0) throw new Error('the query returned no row');
  const [user, db, ssl] = rows[0];
  return `ok user=${user} db=${db} ssl=${ssl ? 't' : 'f'}`;
}

async function once(args) {
  const client = await connect(args);
  try {
    return await whoami(client);
  } finally {
    await client.end().catch(() => {});
  }
}

class Loop {
  constructor(args, ctrl) {
    Object.assign(this, { args, ctrl, held: null, pid: null });
    Object.assign(this, { rounds: 0, heldErrors: 0, newErrors: 0, backends: 0 });
  }

  async heldRound() {
    try {
      if (this.held === null) this.held = await connect(this.args);
      const { rows } = await this.held.query({ text: 'SELECT pg_backend_pid()', rowMode: 'array' });
      if (rows[0][0] !== this.pid) {
        this.pid = rows[0][0];
        this.backends += 1;
      }
    } catch (err) {
      this.heldErrors += 1;
      console.log(`error held: ${oneLine(err.message)}`);
      if (this.held !== null) this.held.end().catch(() => {});
      this.held = null;
    }
  }

  async newRound() {
    try {
      await once(this.args);
    } catch (err) {
      this.newErrors += 1;
      console.log(`error new: ${oneLine(err.message)}`);
    }
  }

  async pauseIfAsked() {
    const pause = path.join(this.ctrl, 'pause');
    if (!fs.existsSync(pause)) return;
    const paused = path.join(this.ctrl, 'paused');
    fs.writeFileSync(paused, '');
    while (fs.existsSync(pause)) await sleep(20);
    fs.rmSync(paused, { force: true });
  }

  async run() {
    this.held = await connect(this.args);
    console.log(await whoami(this.held));
    while (!fs.existsSync(path.join(this.ctrl, 'stop'))) {
      await this.pauseIfAsked();
      this.rounds += 1;
      await this.heldRound();
      await this.newRound();
      await sleep(ROUND_PAUSE_MS);
    }
    if (this.held !== null) await this.held.end().catch(() => {});
    console.log(`done rounds=${this.rounds} held_errors=${this.heldErrors} ` +
        `new_errors=${this.newErrors} held_backends=${this.backends}`);
  }
}

async function main(argv) {
  if (argv.length !== 4 && argv.length !== 5) {
    console.error('usage: node proxy_node_pg.js HOST PORT USER DBNAME [CTRLDIR]');
    return 2;
  }
  const args = argv.slice(0, 4);
  try {
    if (argv.length === 5) await new Loop(args, argv[4]).run();
    else console.log(await once(args));
  } catch (err) { // the first connection or query failed
    console.log(`error ${oneLine(err.message)}`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
