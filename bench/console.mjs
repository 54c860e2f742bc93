// The web console: its bundle's size (bytes, and gzip as a browser receives it over a
// compressing proxy), and its first contentful paint in headless Chromium as a ratio to a
// trivial page served by bare node:http in the same run, the two loaded in alternation.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { root, startEmulator, stopChild } from './lib/processes.mjs';
import { figure } from './lib/stats.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TRIVIAL_PAGE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bare</title></head><body><h1>Log in</h1></body></html>';

function bundleFigure() {
  const files = ['app.js', 'app.css'].map((name) => readFileSync(join(root, 'dist/console-assets', name)));
  const raw = files.reduce((sum, f) => sum + f.length, 0);
  const gzip = files.reduce((sum, f) => sum + gzipSync(f, { level: 9 }).length, 0);
  return { id: 'console-bundle', label: 'console bundle (app.js + app.css)', detail: `${raw} bytes, ${gzip} bytes gzip` };
}

async function firstPaintMs(page, url) {
  await page.goto(url);
  return page.evaluate(() => new Promise((resolve) => {
    const find = () => performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
    const poll = () => { const entry = find(); if (entry) resolve(entry.startTime); else setTimeout(poll, 10); };
    poll();
  }));
}

export async function runConsoleBench({ quick = false } = {}) {
  const bundle = bundleFigure();
  if (!existsSync(CHROMIUM)) return [bundle, { id: 'console-paint', label: 'console first paint', detail: `not measured: ${CHROMIUM} is missing` }];
  const bare = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(TRIVIAL_PAGE));
  await new Promise((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${bare.address().port}/`;
  const emulator = await startEmulator();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const rounds = [];
    const consoleTimes = [];
    const bareTimes = [];
    for (let i = 0; i < (quick ? 2 : 7); i++) {
      // A fresh context each time: nothing cached from the round before.
      const context = await browser.newContext();
      const page = await context.newPage();
      const b = await firstPaintMs(page, bareUrl);
      const c = await firstPaintMs(page, `${emulator.url}/`);
      await context.close();
      bareTimes.push(b);
      consoleTimes.push(c);
      rounds.push(c / b);
    }
    const ms = (values) => `${Math.round(values.reduce((a, v) => a + v, 0) / values.length)} ms`;
    return [bundle, figure('console-paint', 'console first paint (login page, cold cache) vs a trivial page', rounds, {
      target: 4, lowerIsBetter: true, baseline: `a one-heading page from bare node:http, mean ${ms(bareTimes)}`,
      detail: `console mean ${ms(consoleTimes)}, ${rounds.length} interleaved rounds in headless Chromium`,
    })];
  } finally {
    await browser.close();
    stopChild(emulator.child);
    bare.close();
  }
}
