import * as api from './api.js';
import { h } from './format.js';
import { pages } from './pages.js';

const $ = (id) => document.getElementById(id);
let live = new AbortController();
const listeners = new Set();

/** Pages register for live events while they are shown. */
export function onLive(handler) {
  listeners.add(handler);
  return () => listeners.delete(handler);
}

export function announce(text) { $('live').textContent = text; }

function showLogin(message = '') {
  $('login').hidden = false;
  $('nav').hidden = $('who').hidden = $('logout').hidden = true;
  $('page').replaceChildren();
  $('login-error').textContent = message;
  $('email').focus();
}

function startSession() {
  const user = api.currentUser();
  $('login').hidden = true;
  $('nav').hidden = $('who').hidden = $('logout').hidden = false;
  $('who').textContent = `${user.email} (${user.role})`;
  for (const li of $('nav').querySelectorAll('li[data-roles]')) li.hidden = !li.dataset.roles.split(' ').includes(user.role);
  live.abort();
  live = new AbortController();
  api.subscribe((kind, data) => {
    // Marks the page as live once the server holds the stream: events from then on reach it.
    if (kind === 'ready') document.body.dataset.live = 'connected';
    for (const l of [...listeners]) l(kind, data);
  }, live.signal, () => { document.body.dataset.live = 'reconnecting'; });
  route();
}

const home = (role) => (role === 'USER' ? '#/energy' : '#/overview');

let navigation = 0;

async function route() {
  const user = api.currentUser();
  if (!user) return;
  // A page still loading when the next is asked for renders into its own, detached element and registers nothing.
  const current = ++navigation;
  const [name, ...rest] = (location.hash || home(user.role)).replace(/^#\//, '').split('/');
  const page = pages[name];
  listeners.clear();
  const target = h('div', { class: 'view' });
  $('page').replaceChildren(target);
  // The page hides what the server would refuse; the server refuses it anyway.
  if (!page || !page.roles.includes(user.role)) {
    if (location.hash !== home(user.role)) location.hash = home(user.role);
    return;
  }
  for (const a of $('nav').querySelectorAll('a')) a.toggleAttribute('aria-current', a.getAttribute('href') === `#/${name}`);
  target.replaceChildren(h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    const live = (handler) => (current === navigation ? onLive(handler) : () => {});
    await page.render(target, rest.map(decodeURIComponent), { onLive: live, announce });
  } catch (e) {
    if (current !== navigation) return;
    if (e instanceof api.ApiError && e.status === 401) { showLogin('Your session ended: log in again.'); return; }
    target.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load this page: ${e.message}`));
  }
  if (current !== navigation) return;
  const heading = target.querySelector('h1');
  // Not when the operator already works inside the page while its last figures were loading (a node chosen in the grid's tree).
  if (heading && !target.contains(document.activeElement)) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  document.body.dataset.page = name;
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    await api.login($('email').value.trim(), $('password').value);
    $('password').value = '';
    startSession();
  } catch (e) {
    $('login-error').textContent = e.message;
  }
});

$('logout').addEventListener('click', async () => {
  live.abort();
  await api.logout();
  location.hash = '';
  showLogin();
});

window.addEventListener('hashchange', route);

// Silent refresh on load: the HttpOnly cookie, if any, brings the session back without a form.
api.refresh().then(startSession, () => showLogin());

