// Audit, users and tokens (admins).
import {h, table, announce} from '../dom.js';
import {api, get, qs} from '../api.js';
import {t, fmtDate} from '../i18n.js';

export async function render(main, ctx) {
  const since = ctx.params.get('since') || '';
  const filter = (ctx.params.get('filter') || '').toLowerCase();
  const [users, tokens, log] = await Promise.all([
    get('/api/users'), get('/api/tokens'),
    get('/api/audit' + qs({since: since ? new Date(since).toISOString().replace(/\.\d+Z$/, 'Z') : '', limit: 500})),
  ]);
  if (!ctx.isCurrent()) return;
  const msg = h('p', {role: 'status', id: 'admin-msg'});
  const reload = (text) => { announce(text); ctx.go(location.hash); };
  const act = async (fn, done) => {
    msg.textContent = '';
    msg.className = '';
    try {
      await fn();
      reload(done);
    } catch (e) {
      msg.className = 'error';
      msg.textContent = e.message;
    }
  };
  main.append(h('h1', {}, t('admin.title')), msg);

  // Users.
  main.append(h('h2', {id: 'users'}, t('admin.users')), table(null, [t('admin.name'), t('admin.roles'), t('admin.state'), t('admin.created'), ''],
    users.map((u) => [u.name, u.roles.join(', '), u.disabled ? t('admin.disabled') : t('admin.active'), fmtDate(u.created),
      h('button', {type: 'button', class: 'secondary', onclick: () => act(() => api('POST', `/api/users/${encodeURIComponent(u.name)}/${u.disabled ? 'enable' : 'disable'}`), t('admin.saved'))},
        u.disabled ? t('admin.enable', u.name) : t('admin.disable', u.name))])));
  const nu = {name: h('input', {id: 'nu-name', required: true, autocomplete: 'off'}),
    roles: h('input', {id: 'nu-roles', required: true, placeholder: 'analyst', 'aria-describedby': 'roles-help'}),
    password: h('input', {id: 'nu-password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password'})};
  const userForm = h('form', {class: 'row', 'aria-labelledby': 'nu-title'},
    h('h3', {id: 'nu-title', class: 'visually-hidden'}, t('admin.addUser')),
    h('div', {}, h('label', {for: 'nu-name'}, t('admin.name')), nu.name),
    h('div', {}, h('label', {for: 'nu-roles'}, t('admin.roles')), nu.roles),
    h('div', {}, h('label', {for: 'nu-password'}, t('admin.password')), nu.password),
    h('div', {}, h('button', {type: 'submit'}, t('admin.addUser'))),
    h('p', {id: 'roles-help', class: 'meta'}, t('admin.rolesHelp')));
  userForm.addEventListener('submit', (e) => {
    e.preventDefault();
    act(() => api('POST', '/api/users', {name: nu.name.value, roles: nu.roles.value, password: nu.password.value}), t('admin.saved'));
  });
  main.append(userForm);

  // Tokens.
  const secret = h('div', {id: 'token-secret'});
  main.append(h('h2', {id: 'tokens'}, t('admin.tokens')), table(null, [t('admin.id'), t('admin.name'), t('admin.roles'), t('admin.expires'), t('admin.state'), ''],
    tokens.map((k) => {
      const state = k.revoked ? t('admin.revoked') : new Date(k.expires) < new Date() ? t('admin.expired') : t('admin.active');
      return [h('span', {class: 'mono'}, k.id), k.name, k.roles.join(', '), fmtDate(k.expires), state,
        k.revoked ? '' : h('button', {type: 'button', class: 'secondary', onclick: () => act(() => api('DELETE', '/api/tokens/' + encodeURIComponent(k.id)), t('admin.saved'))}, t('admin.revoke', k.name))];
    })));
  if (tokens.length === 0) main.append(h('p', {class: 'meta'}, t('admin.noTokens')));
  const nt = {name: h('input', {id: 'nt-name', required: true}),
    roles: h('input', {id: 'nt-roles', required: true, placeholder: 'researcher', 'aria-describedby': 'roles-help'}),
    expires: h('input', {id: 'nt-expires', value: '90d', required: true})};
  const tokenForm = h('form', {class: 'row', 'aria-label': t('admin.createToken')},
    h('div', {}, h('label', {for: 'nt-name'}, t('admin.name')), nt.name),
    h('div', {}, h('label', {for: 'nt-roles'}, t('admin.roles')), nt.roles),
    h('div', {}, h('label', {for: 'nt-expires'}, t('admin.expiresIn')), nt.expires),
    h('div', {}, h('button', {type: 'submit'}, t('admin.createToken'))));
  tokenForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    try {
      const res = await api('POST', '/api/tokens', {name: nt.name.value, roles: nt.roles.value, expires: nt.expires.value});
      secret.replaceChildren(h('p', {}, t('admin.tokenOnce')), h('p', {class: 'secret'}, res.token));
    } catch (e2) {
      msg.className = 'error';
      msg.textContent = e2.message;
    }
  });
  main.append(tokenForm, secret);

  // Audit log, newest first, filtered.
  const fInput = h('input', {id: 'audit-filter', type: 'search', value: filter});
  const sInput = h('input', {id: 'audit-since', type: 'datetime-local', value: since});
  const auditForm = h('form', {class: 'row', role: 'search'},
    h('div', {}, h('label', {for: 'audit-filter'}, t('admin.filter')), fInput),
    h('div', {}, h('label', {for: 'audit-since'}, t('admin.since')), sInput),
    h('div', {}, h('button', {type: 'submit'}, t('admin.apply'))));
  auditForm.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.go('#/admin' + qs({filter: fInput.value, since: sInput.value}));
  });
  const rows = log.slice().reverse().filter((e) => !filter ||
    [e.who, e.action, String(e.status), e.remote, JSON.stringify(e.what || {})].join(' ').toLowerCase().includes(filter));
  main.append(h('h2', {id: 'audit'}, t('admin.audit')), auditForm,
    h('p', {class: 'meta'}, t('admin.auditCount', rows.length, log.length)),
    table(null, [t('admin.time'), t('admin.who'), t('admin.action'), t('admin.what'), t('admin.status'), t('admin.rows')],
      rows.map((e) => [fmtDate(e.time, true), e.who, e.action,
        Object.entries(e.what || {}).map(([k, v]) => `${k}=${v}`).join(' '), e.status || '', e.rows < 0 ? '' : e.rows])));
}
