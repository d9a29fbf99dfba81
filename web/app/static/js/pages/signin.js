// Sign-in: a password session (POST /api/session), or the identity
// provider when one is configured.
import {h} from '../dom.js';
import {api, get, ApiError} from '../api.js';
import {t} from '../i18n.js';

export async function render(main, ctx) {
  const err = h('p', {id: 'signin-error', class: 'error', role: 'alert'});
  const user = h('input', {id: 'user', name: 'user', autocomplete: 'username', required: true, 'aria-describedby': 'signin-error'});
  const pass = h('input', {id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'signin-error'});
  const button = h('button', {type: 'submit', id: 'signin-submit'}, t('signin.submit'));
  const form = h('form', {class: 'stack', id: 'signin-form', 'aria-labelledby': 'signin-title'},
    h('div', {}, h('label', {for: 'user'}, t('signin.user')), user),
    h('div', {}, h('label', {for: 'password'}, t('signin.password')), pass),
    h('div', {}, button), err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    button.disabled = true;
    try {
      const s = await api('POST', '/api/session', {user: user.value, password: pass.value});
      ctx.signedIn(s);
    } catch (e2) {
      button.disabled = false;
      if (e2 instanceof ApiError && e2.status === 401) err.textContent = t('signin.wrong');
      else if (e2 instanceof ApiError && e2.status === 429) err.textContent = t('signin.throttled');
      else err.textContent = e2.message;
      pass.value = '';
      pass.focus();
    }
  });
  main.append(h('h1', {id: 'signin-title'}, t('signin.title')), h('p', {}, t('signin.intro')), form);
  user.focus();
  // Sign-in through the organisation's identity provider, when the server
  // has one (its OpenAPI document then lists /api/oidc/login).
  try {
    const doc = await get('/api/openapi.json');
    if (ctx.isCurrent() && doc.paths && doc.paths['/api/oidc/login']) {
      main.append(h('p', {}, h('a', {class: 'button secondary', href: '/api/oidc/login', id: 'oidc-login'}, t('signin.oidc'))));
    }
  } catch (e) { /* the password form works without it */ }
}
