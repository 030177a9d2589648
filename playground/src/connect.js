// The connect bar above GraphiQL: pool id + secret (or a pasted token) → a session token.
import * as session from './session.js';

const $ = (id) => document.getElementById(id);
let tick = null;

function fmtLeft(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function render(s, _prev, error) {
  const bar = $('connect');
  $('connect-error').textContent = error ? `Renewal failed: ${error.message}` : '';
  clearInterval(tick);
  if (!s) {
    bar.dataset.state = 'disconnected';
    $('session').hidden = true;
    $('connect-form').hidden = false;
    $('token-form').hidden = true;
    return;
  }
  bar.dataset.state = 'connected';
  $('connect-form').hidden = true;
  $('token-form').hidden = true;
  $('session').hidden = false;
  const update = () => {
    const left = s.exp * 1000 - Date.now();
    const at = new Date(s.exp * 1000).toLocaleTimeString();
    $('session-text').textContent = left > 0
      ? `Connected to pool ${s.poolId} · token expires at ${at} (in ${fmtLeft(left)}), renewed automatically`
      : `Token for pool ${s.poolId} expired at ${at}: connect again`;
    $('session-text').dataset.exp = String(s.exp);
    if (left <= 0) { clearInterval(tick); session.disconnect(); }
  };
  update();
  tick = setInterval(update, 1000);
}

async function guard(fn) {
  $('connect-error').textContent = '';
  try {
    await fn();
  } catch (e) {
    $('connect-error').textContent = e.message;
  }
}

export function mountConnectBar() {
  $('connect-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(async () => {
      await session.connect($('pool-id').value.trim(), $('secret').value);
      $('secret').value = '';
    });
  });
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guard(async () => {
      session.useToken($('token').value);
      $('token').value = '';
    });
  });
  $('paste-token-btn').addEventListener('click', () => {
    $('connect-form').hidden = true;
    $('token-form').hidden = false;
    $('token').focus();
  });
  $('back-btn').addEventListener('click', () => {
    $('token-form').hidden = true;
    $('connect-form').hidden = false;
  });
  $('renew-btn').addEventListener('click', () => guard(session.renew));
  $('disconnect-btn').addEventListener('click', () => session.disconnect());
  session.onChange(render);
}
