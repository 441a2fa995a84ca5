/**
 * The console's one page: plain HTML, CSS and a script, served by the worker
 * (src/console/server.ts). It loads nothing from the network: uPlot comes from
 * /assets, data from /api, live updates from /api/…/events (server-sent
 * events). Everything the API returns lands in the page through textContent,
 * never as markup.
 *
 * Approve and reject sign in the browser: with a Wallet Standard wallet (or a
 * legacy window.solana) exposing signMessage, the page asks the API for the
 * plan's envelope bytes for that wallet's address, has the wallet sign them
 * and posts the signature; without one it shows the exact text to sign and
 * the CLI command, and takes a pasted signature (hardware keys, air-gapped
 * machines).
 */
import { BASE_STYLE } from '../report/html-kit.ts';

const STYLE = String.raw`
  :root { color-scheme: light; }
  header.bar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; }
  header.bar h1 { margin: 0; }
  .flags span { margin-right: .4rem; }
  .flag { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-weight: 600; font-size: .85rem; }
  .flag.on { background: #fee2e2; color: #991b1b; } .flag.off { background: #dcfce7; color: #166534; }
  .ivs { display: grid; gap: .8rem; }
  .stat.lvl-critical .value, .stat.lvl-poor .value { color: var(--bad); } .stat.lvl-excellent .value, .stat.lvl-good .value { color: var(--good); }
  .iv { border: 1px solid #e2e8f0; border-radius: .6rem; padding: .8rem 1rem; background: #fff; }
  .iv h3 { margin: 0 0 .3rem; font-size: 1rem; }
  .iv .plan { margin: .3rem 0; }
  .iv .actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .5rem; }
  .iv textarea { width: 100%; min-height: 3.2rem; font-family: ui-monospace, monospace; font-size: .8rem; }
  .iv pre, pre.audit { white-space: pre-wrap; word-break: break-word; font-size: .8rem; background: #f8fafc; padding: .5rem; border-radius: .4rem; }
  button { font: inherit; padding: .35rem .8rem; border-radius: .4rem; border: 1px solid #94a3b8; background: #fff; cursor: pointer; }
  button.approve { background: #16a34a; color: #fff; border-color: #15803d; }
  button.reject { background: #dc2626; color: #fff; border-color: #b91c1c; }
  .note { color: #475569; font-size: .85rem; }
  main { overflow-wrap: break-word; }
  .error { color: #b91c1c; font-weight: 600; }
  #live li { font-family: ui-monospace, monospace; font-size: .8rem; }
  .table-wrap { overflow-x: auto; }
  header.bar { margin-bottom: 12px; }
`;

/** The page script: fetches the API, renders with textContent, signs with a wallet or takes a pasted signature. */
const SCRIPT = String.raw`(function () {
  'use strict';
  var state = { treasury: null, status: null, history: null, interventions: [], wallets: [], account: null, chart: null };
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function api(path, init) {
    return fetch(path, init).then(function (r) {
      return r.json().catch(function () { return { error: r.status + ' ' + r.statusText }; }).then(function (body) {
        if (!r.ok) { var e = new Error(body.error || String(r.status)); e.status = r.status; throw e; }
        return body;
      });
    });
  }
  var base = function () { return '/api/treasuries/' + encodeURIComponent(state.treasury); };
  var utc = function (ms) { return ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'; };
  var num = function (x, d) { return x === null || x === undefined || !isFinite(x) ? '—' : Number(x).toFixed(d); };
  var price = function (x) { return x === null || x === undefined ? '—' : '$' + Number(x).toPrecision(5); };
  function amount(raw, decimals) {
    if (raw === null || raw === undefined) return '—';
    var s = String(raw).padStart(decimals + 1, '0');
    var whole = s.slice(0, s.length - decimals), frac = s.slice(s.length - decimals).replace(/0+$/, '');
    return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? '.' + frac : '');
  }
  function span(ms) {
    if (ms <= 0) return 'now';
    var s = Math.round(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ' h ' : '') + (h || m ? m + ' min ' : '') + (s % 60) + ' s';
  }
  function card(label, value, note, cls) {
    var c = el('div', 'stat' + (cls ? ' ' + cls : ''));
    c.appendChild(el('div', 'label', label));
    c.appendChild(el('div', 'value', value));
    if (note) c.appendChild(el('div', 'note', note));
    return c;
  }
  function live(text) {
    var li = el('li', null, new Date().toISOString().slice(11, 19) + '  ' + text);
    var list = $('live');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) list.removeChild(list.lastChild);
  }

  // ── Wallets: Wallet Standard (solana:signMessage), else a legacy window.solana ──
  function register() {
    for (var i = 0; i < arguments.length; i++) {
      var w = arguments[i];
      if (w && w.features && w.features['solana:signMessage'] && state.wallets.indexOf(w) < 0) state.wallets.push(w);
    }
    renderWallet();
    return function () {};
  }
  window.addEventListener('wallet-standard:register-wallet', function (e) { try { e.detail({ register: register }); } catch (err) { /* a broken wallet is no wallet */ } });
  window.dispatchEvent(new CustomEvent('wallet-standard:app-ready', { detail: { register: register } }));
  function hasWallet() { return state.wallets.length > 0 || !!(window.solana && window.solana.signMessage); }
  function connect() {
    var w = state.wallets[0];
    if (w) {
      var accounts = w.accounts && w.accounts.length ? Promise.resolve({ accounts: w.accounts }) : w.features['standard:connect'].connect();
      return accounts.then(function (r) { state.account = { address: r.accounts[0].address, sign: function (bytes) {
        return w.features['solana:signMessage'].signMessage({ account: r.accounts[0], message: bytes }).then(function (out) { return out[0].signature; });
      } }; });
    }
    return window.solana.connect().then(function (r) { state.account = { address: String((r && r.publicKey) || window.solana.publicKey), sign: function (bytes) {
      return window.solana.signMessage(bytes, 'utf8').then(function (out) { return out.signature; });
    } }; });
  }
  function renderWallet() {
    var box = $('wallet');
    box.textContent = '';
    if (state.account) {
      var op = operatorFor(state.account.address);
      box.appendChild(el('span', null, 'Wallet ' + state.account.address + (op ? ' — signs as ' + op : ' — not a configured operator key')));
    } else if (hasWallet()) {
      var b = el('button', null, 'Connect wallet');
      b.onclick = function () { connect().then(renderAll, function (e) { box.appendChild(el('span', 'error', ' ' + e.message)); }); };
      box.appendChild(b);
    } else {
      box.appendChild(el('span', 'note', 'No wallet in this browser: sign with the CLI and paste the signature.'));
    }
  }
  function operatorFor(address) {
    var ops = (state.status && state.status.operators) || [];
    for (var i = 0; i < ops.length; i++) if (ops[i].publicKey === address) return ops[i].name;
    return null;
  }
  var b64 = {
    decode: function (s) { var bin = atob(s), out = new Uint8Array(bin.length); for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i); return out; },
    encode: function (bytes) { var s = ''; for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]); return btoa(s); },
  };

  // ── Status, readings, chart ──
  function renderStatus() {
    var v = state.status, s = v.status, c = s.lastCycle || {}, h = v.health || {};
    $('mode').textContent = s.mode + ' mode · ' + (s.signing || '');
    var flags = $('flags');
    flags.textContent = '';
    var f1 = el('span', 'flag ' + (s.emergencyStop ? 'on' : 'off'), s.emergencyStop ? 'EMERGENCY STOP latched' : 'no emergency stop');
    var f2 = el('span', 'flag ' + (s.paused ? 'on' : 'off'), s.paused ? 'PAUSED' : 'running');
    flags.appendChild(f1); flags.appendChild(f2);
    var cards = $('cards');
    cards.textContent = '';
    cards.appendChild(card('PSTR price', price(c.consensusPrice), c.validPrice === false ? 'no valid price: ' + (c.consensusReason || '') : 'consensus'));
    cards.appendChild(card('30-day VWAP', price(c.vwap30), c.warmingUp ? 'warming up' : ''));
    var trigger = (v.bands || []).filter(function (b) { return /^trigger/.test(b.label); })[0];
    cards.appendChild(card('Drawdown', c.drawdown === null || c.drawdown === undefined ? '—' : num(c.drawdown * 100, 2) + ' %', String(c.decision || '').split(':')[0] + (trigger ? ' · trigger at ' + price(trigger.price) : '')));
    cards.appendChild(card('Health', num(h.score, 3), h.level || '', h.level ? 'lvl-' + h.level : ''));
    cards.appendChild(card('Reserve ratio', num(c.reserveRatio, 3), ''));
    cards.appendChild(card('Last cycle', c.at ? span(Date.now() - c.at) + ' ago' : 'never', 'cycle ' + s.cycles + ' · every ' + s.cycleIntervalSeconds + ' s'));
    var w = v.watchdog;
    cards.appendChild(card('Watchdog', !w ? '—' : w.kind === 'none' ? 'no verdict' : w.verdict.ok ? 'ok' : 'ALERT', !w ? '' : w.kind === 'none' ? w.why : w.verdict.message));
    cards.appendChild(card('Interventions', String(s.interventionCount), s.pendingInterventions.length ? 'pending: ' + s.pendingInterventions.join(', ') : 'none pending'));
    renderReadings(v.consensus);
  }
  function renderReadings(cons) {
    var body = $('readings');
    body.textContent = '';
    if (!cons || !cons.readings) { var tr0 = el('tr'); tr0.appendChild(el('td', 'note', 'no consensus recorded yet')); body.appendChild(tr0); return; }
    var rows = cons.readings.map(function (r) { return { source: r.source, price: r.price, conf: r.confidence, verdict: 'agrees' }; });
    (cons.excluded || []).forEach(function (x) {
      var row = rows.filter(function (r) { return r.source === x.source; })[0];
      if (!row) { row = { source: x.source, price: x.price, conf: null }; rows.push(row); }
      row.verdict = 'excluded: ' + x.reason + (x.detail ? ' (' + x.detail + ')' : '');
    });
    (cons.outliers || []).forEach(function (o) { rows.forEach(function (r) { if (r.source === o && r.verdict === 'agrees') r.verdict = 'excluded: outlier'; }); });
    rows.forEach(function (r) {
      var tr = el('tr');
      tr.appendChild(el('td', null, r.source));
      tr.appendChild(el('td', 'num', price(r.price)));
      tr.appendChild(el('td', 'num', r.conf === null || r.conf === undefined ? '—' : Number(r.conf).toPrecision(3)));
      tr.appendChild(el('td', r.verdict === 'agrees' ? null : 'warn', r.verdict));
      body.appendChild(tr);
    });
    var tr = el('tr');
    tr.appendChild(el('td', null, 'consensus'));
    tr.appendChild(el('td', 'num', cons.ok ? price(cons.price) : '—'));
    tr.appendChild(el('td'));
    tr.appendChild(el('td', null, cons.ok ? 'from ' + (cons.agreeing || []).length + ' agreeing sources' : 'no valid price: ' + (cons.reason || '')));
    body.appendChild(tr);
  }
  var BAND_COLORS = ['#0f172a', '#d97706', '#f97316', '#dc2626', '#7f1d1d'];
  function renderChart() {
    var pts = ((state.history && state.history.points) || []).slice();
    var bands = (state.status && state.status.bands) || [];
    // The last cycle's consensus is newer than the history fetched: draw it at once.
    var lc = state.status && state.status.status.lastCycle;
    if (lc && lc.consensusPrice && (!pts.length || lc.at > pts[pts.length - 1].at)) pts.push({ at: lc.at, price: lc.consensusPrice });
    var box = $('chart');
    if (!pts.length) { box.textContent = 'No price history yet.'; state.chart = null; return; }
    var data = [pts.map(function (p) { return p.at / 1000; }), pts.map(function (p) { return p.price; })];
    var series = [{}, { label: 'PSTR', stroke: '#2563eb', width: 2 }];
    bands.forEach(function (b, i) {
      data.push(pts.map(function () { return b.price; }));
      series.push({ label: b.label, stroke: BAND_COLORS[i % BAND_COLORS.length], width: 1, dash: i === 0 ? [] : [6, 4] });
    });
    if (state.chart && state.chart.series.length === series.length) { state.chart.setData(data); box.setAttribute('data-points', String(pts.length)); return; }
    var width = Math.max(280, box.clientWidth || 600);
    if (state.chart) state.chart.destroy();
    box.textContent = '';
    state.chart = new uPlot({ width: width, height: 300, series: series, axes: [{}, { values: function (u, v) { return v.map(function (x) { return '$' + x.toPrecision(3); }); }, size: 96 }], scales: { x: { time: true } } }, data, box);
    box.setAttribute('data-points', String(pts.length));
  }
  window.addEventListener('resize', function () { if (state.chart) state.chart.setSize({ width: Math.max(280, $('chart').clientWidth), height: 300 }); });

  // ── Interventions ──
  function planWords(p) {
    var d = state.status.decimals;
    return 'Spend ' + amount(p.pumpIn, d.pump) + ' PUMP for at least ' + amount(p.minPstrOut, d.pstr) + ' PSTR — tier ' + p.tier +
      ', sized at ' + price(p.consensusPrice) + ' PSTR/USD, config v' + (p.configVersion === null ? '—' : p.configVersion) +
      ', plan revision ' + p.revision + '; approvals of it are refused after ' + utc(p.expiresAt) + '.';
  }
  function renderInterventions() {
    var box = $('interventions');
    // A signing panel an operator has open survives the live refresh (moved into the new card) while its
    // intervention still takes decisions: an update from another operator must not close it mid-signature.
    var open = {};
    box.querySelectorAll('.iv').forEach(function (c) { var s = c.querySelector('.sign'); if (s && s.childNodes.length) open[c.getAttribute('data-id')] = s; });
    box.textContent = '';
    var list = state.interventions.slice().reverse();
    if (!list.length) box.appendChild(el('p', 'note', 'No intervention yet.'));
    list.forEach(function (iv) {
      var card = interventionCard(iv), kept = open[iv.id];
      if (kept && iv.state && iv.state.status === 'running' && iv.state.plan) card.replaceChild(kept, card.querySelector('.sign'));
      box.appendChild(card);
    });
  }
  function interventionCard(iv) {
    var st = iv.state, n = iv.id.split('/').pop();
    var div = el('div', 'iv');
    div.setAttribute('data-id', iv.id);
    div.appendChild(el('h3', null, iv.id + ' — ' + (st ? st.status + (st.status === 'running' ? ' (' + st.stage + ')' : '') : iv.execution.toLowerCase())));
    if (!st) return div;
    if (st.plan) div.appendChild(el('p', 'plan', planWords(st.plan)));
    else if (st.status === 'running') div.appendChild(el('p', 'note', 'No plan yet: it is published after sizing; approvals before it are refused.'));
    if (st.result) div.appendChild(el('p', 'result', 'Swapped ' + amount(st.result.pumpSpent, state.status.decimals.pump) + ' PUMP → ' + amount(st.result.pstrBought, state.status.decimals.pstr) + ' PSTR'));
    if (st.reason) div.appendChild(el('p', 'note', st.reason));
    var a = st.approvals;
    div.appendChild(el('p', 'note', 'Approvals: ' + (a.approvals.map(function (x) { return x.operator; }).join(', ') || 'none') +
      (a.rejection ? ' · rejected by ' + a.rejection.operator : '') + (a.refused.length ? ' · refused: ' + a.refused.map(function (r) { return r.signal.operator + ' (' + r.why + ')'; }).join('; ') : '')));
    if (st.timelock && st.timelock.required && st.status === 'running') {
      var cd = el('p', 'countdown');
      cd.setAttribute('data-unlock', String(st.timelock.unlockAt || ''));
      cd.setAttribute('data-expires', String(st.timelock.expiresAt || ''));
      div.appendChild(cd);
    }
    var actions = el('div', 'actions');
    if (st.status === 'running' && st.plan) {
      ['approve', 'reject'].forEach(function (kind) {
        var b = el('button', kind, kind === 'approve' ? 'Approve' : 'Reject');
        b.setAttribute('data-action', kind);
        b.onclick = function () { decide(div, n, kind); };
        actions.appendChild(b);
      });
    }
    var au = el('button', null, 'Audit');
    au.onclick = function () {
      api(base() + '/interventions/' + n + '/audit').then(function (r) {
        var pre = div.querySelector('pre.audit') || div.appendChild(el('pre', 'audit'));
        pre.textContent = r.lines.join('\n');
      }, function (e) { actions.appendChild(el('span', 'error', e.message)); });
    };
    actions.appendChild(au);
    div.appendChild(actions);
    div.appendChild(el('div', 'sign'));
    return div;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('.countdown').forEach(function (p) {
      var unlock = Number(p.getAttribute('data-unlock')), expires = Number(p.getAttribute('data-expires'));
      p.textContent = unlock > now ? 'Timelock: unlocks in ' + span(unlock - now) : expires ? 'Unlocked; approvals close in ' + span(expires - now) : 'Unlocked';
    });
  }
  setInterval(tick, 1000);

  function decide(div, n, kind) {
    var box = div.querySelector('.sign');
    box.textContent = '';
    var reasonInput = el('input');
    reasonInput.placeholder = 'reason (optional, signed)';
    var ops = (state.status.operators || []).map(function (o) { return o.name; });
    var walletOp = state.account ? operatorFor(state.account.address) : null;
    var sel = el('select');
    ops.forEach(function (o) { var opt = el('option', null, o); opt.value = o; if (o === walletOp) opt.selected = true; sel.appendChild(opt); });
    box.appendChild(el('span', null, kind + ' as '));
    box.appendChild(sel);
    box.appendChild(reasonInput);
    var out = el('div');
    var post = function (body) {
      return api(base() + '/interventions/' + n + '/' + kind, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        .then(function (r) { out.textContent = ''; out.appendChild(el('p', 'ok', kind + ' accepted: ' + r.why)); live(kind + ' by ' + sel.value + ' accepted'); refresh(); },
          function (e) { out.textContent = ''; out.appendChild(el('p', 'error', kind + ' refused: ' + e.message)); });
    };
    var planFor = function (publicKey) {
      var q = '?operator=' + encodeURIComponent(sel.value) + '&action=' + kind + (reasonInput.value ? '&reason=' + encodeURIComponent(reasonInput.value) : '') + (publicKey ? '&publicKey=' + encodeURIComponent(publicKey) : '');
      return api(base() + '/interventions/' + n + '/plan' + q);
    };
    if (hasWallet()) {
      var wb = el('button', kind, 'Sign with wallet');
      wb.setAttribute('data-sign', 'wallet');
      wb.onclick = function () {
        (state.account ? Promise.resolve() : connect()).then(function () {
          renderWallet();
          return planFor(state.account.address);
        }).then(function (view) {
          if (!view.toSign || !view.toSign.envelopeBase64) throw new Error('no plan to sign');
          return state.account.sign(b64.decode(view.toSign.envelopeBase64)).then(function (sig) { return post({ message: view.toSign.message, signatureBase64: b64.encode(sig) }); });
        }).catch(function (e) { out.textContent = ''; out.appendChild(el('p', 'error', e.message)); });
      };
      box.appendChild(wb);
    }
    var pb = el('button', null, 'Sign elsewhere (CLI, hardware key)');
    pb.onclick = function () {
      planFor(null).then(function (view) {
        out.textContent = '';
        if (!view.toSign) { out.appendChild(el('p', 'error', 'no plan to sign')); return; }
        out.appendChild(el('p', 'note', 'Sign exactly this text as a Solana off-chain message, or run:'));
        out.appendChild(el('pre', null, view.toSign.cli));
        out.appendChild(el('pre', 'message', view.toSign.message));
        var ta = el('textarea');
        ta.placeholder = 'paste the signature (base58) or the JSON that sign-plan prints';
        out.appendChild(ta);
        var send = el('button', kind, 'Send signed ' + kind);
        send.onclick = function () {
          var text = ta.value.trim(), body;
          try { var j = JSON.parse(text); body = { message: j.message, signature: j.signature }; } catch (e) { body = { message: view.toSign.message, signature: text }; }
          post(body);
        };
        out.appendChild(send);
      }, function (e) { out.textContent = ''; out.appendChild(el('p', 'error', e.message)); });
    };
    box.appendChild(pb);
    box.appendChild(out);
  }

  // ── Alerts, proposals ──
  function renderAlerts(list) {
    var body = $('alerts');
    body.textContent = '';
    if (!list.length) { var tr0 = el('tr'); tr0.appendChild(el('td', 'note', 'no alerts')); body.appendChild(tr0); }
    list.slice(0, 30).forEach(function (a) {
      var tr = el('tr');
      tr.appendChild(el('td', null, utc(a.at))); tr.appendChild(el('td', a.level === 'critical' ? 'bad' : a.level === 'warning' ? 'warn' : null, a.level));
      tr.appendChild(el('td', null, a.kind)); tr.appendChild(el('td', null, a.message));
      body.appendChild(tr);
    });
  }
  function renderProposals(list) {
    var body = $('proposals');
    body.textContent = '';
    if (!list.length) { var tr0 = el('tr'); tr0.appendChild(el('td', 'note', 'no proposals')); body.appendChild(tr0); }
    list.forEach(function (p) {
      var t = p.tally, tr = el('tr');
      tr.appendChild(el('td', null, p.id));
      tr.appendChild(el('td', null, t ? t.status : p.execution.toLowerCase()));
      tr.appendChild(el('td', null, t ? t.description : ''));
      tr.appendChild(el('td', 'num', t ? 'yes ' + t.tally.yes + ' · no ' + t.tally.no + ' · abstain ' + t.tally.abstain + ' (quorum ' + num(t.tally.quorum * 100, 1) + ' %)' : ''));
      tr.appendChild(el('td', null, t ? 'deadline ' + utc(t.deadline) : ''));
      body.appendChild(tr);
    });
  }

  // ── Loading and live updates ──
  function show(err) { $('problem').textContent = err ? String(err.message || err) : ''; }
  function refreshStatus() {
    return api(base() + '/status').then(function (v) {
      state.status = v; renderStatus(); renderWallet();
      // Bands arrive with the status: draw the chart when it has none yet, else add the new cycle to it.
      if (!state.chart) return refreshHistory();
      renderChart();
    });
  }
  function refreshInterventions() { return api(base() + '/interventions').then(function (v) { state.interventions = v.interventions; renderInterventions(); tick(); }); }
  function refreshHistory() { return api(base() + '/history').then(function (v) { state.history = v; if (state.status) renderChart(); }); }
  function refreshSide() {
    return Promise.all([api(base() + '/alerts').then(function (v) { renderAlerts(v.alerts); }), api(base() + '/proposals').then(function (v) { renderProposals(v.proposals); })]);
  }
  function refresh() { return refreshStatus().then(refreshInterventions).then(function () { show(null); }, show); }
  function renderAll() { renderWallet(); renderInterventions(); }
  var source = null, lastHistory = 0;
  function subscribe() {
    if (source) source.close();
    source = new EventSource(base() + '/events');
    source.addEventListener('status', function (e) {
      var d = JSON.parse(e.data);
      refreshStatus().then(function () { if (Date.now() - lastHistory > 15000) { lastHistory = Date.now(); return refreshHistory(); } }).catch(show);
      if (d.emergencyStop) live('emergency stop latched');
    });
    source.addEventListener('intervention', function (e) {
      var d = JSON.parse(e.data);
      live(d.id + ': ' + d.status + (d.stage ? ' (' + d.stage + ')' : '') + (d.lastStep ? ' — ' + d.lastStep.step + ': ' + d.lastStep.verdict : ''));
      refreshInterventions().then(refreshSide).catch(show);
    });
  }
  function start(treasury) {
    state.treasury = treasury;
    $('treasury').textContent = treasury;
    $('report').href = '/treasuries/' + encodeURIComponent(treasury) + '/report';
    lastHistory = Date.now();
    // The chart's bands come with the status: draw once both are in.
    Promise.all([refreshStatus(), refreshHistory(), refreshInterventions(), refreshSide()]).then(function () { renderChart(); show(null); }, show);
    subscribe();
  }
  api('/api/treasuries').then(function (r) {
    var ids = r.treasuries.map(function (t) { return t.id; });
    var pick = $('pick');
    ids.forEach(function (id) { var o = el('option', null, id); o.value = id; pick.appendChild(o); });
    pick.hidden = ids.length < 2;
    pick.onchange = function () { location.hash = 't=' + pick.value; start(pick.value); };
    var wanted = (/t=([^&]+)/.exec(location.hash) || [])[1];
    var first = wanted && ids.indexOf(decodeURIComponent(wanted)) >= 0 ? decodeURIComponent(wanted) : ids[0];
    pick.value = first;
    start(first);
  }, show);
})();`;

export function consolePage(): string {
  return `<!doctype html>
<html lang="en"><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>PSTR treasury console</title>
<link rel="stylesheet" href="/assets/uplot.css">
<style>${BASE_STYLE}${STYLE}</style>
</head><body><main>
<header class="bar">
  <h1>PSTR treasury <span id="treasury"></span></h1>
  <select id="pick" hidden aria-label="treasury"></select>
  <span id="mode" class="note"></span>
  <span id="flags" class="flags"></span>
  <a id="report" target="_blank" rel="noopener">Operator report</a>
</header>
<p id="problem" class="error" role="alert"></p>
<section class="card"><div id="cards" class="stats"></div></section>
<section class="card"><h2>Price, 30-day VWAP and the trigger band</h2><div id="chart" class="chart"></div></section>
<section class="card"><h2>Oracle readings of the last consensus</h2>
  <div class="table-wrap"><table><thead><tr><th>Source</th><th>Price</th><th>Confidence</th><th>Verdict</th></tr></thead><tbody id="readings"></tbody></table></div></section>
<section class="card"><h2>Interventions</h2><div id="wallet" class="note"></div><div id="interventions" class="ivs"></div></section>
<section class="card"><h2>Live</h2><ul id="live"></ul></section>
<section class="card"><h2>Alerts</h2><div class="table-wrap"><table><thead><tr><th>At</th><th>Level</th><th>Kind</th><th>Message</th></tr></thead><tbody id="alerts"></tbody></table></div></section>
<section class="card"><h2>Governance proposals</h2><div class="table-wrap"><table><thead><tr><th>Proposal</th><th>Status</th><th>What</th><th>Tally</th><th>Deadline</th></tr></thead><tbody id="proposals"></tbody></table></div></section>
</main>
<script src="/assets/uplot.js"></script>
<script>${SCRIPT}</script>
</body></html>`;
}
