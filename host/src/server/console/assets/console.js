// Progressive enhancement of the console's server-rendered forms. Every
// page works without it; this only hides editors that do not apply and
// completes `{{` in Smart Text. No inline script anywhere (the CSP forbids it).

/** Shows the elements whose space-separated `attr` list holds `value`. */
function showMatching(root, attr, value) {
  for (const el of root.querySelectorAll(`[${attr}]`)) {
    el.hidden = !el.getAttribute(attr).split(/\s+/).includes(value);
  }
}

function authMethod() {
  const select = document.querySelector('[data-auth-select]');
  if (!select) return;
  const form = select.form;
  const update = () => showMatching(form, 'data-auth', select.value);
  select.addEventListener('change', update);
  update();
}

function ruleMethods() {
  for (const select of document.querySelectorAll('select[data-method]')) {
    const row = select.closest('fieldset');
    const update = () => showMatching(row, 'data-for', select.value);
    select.addEventListener('change', update);
    update();
  }
}

function visibility() {
  const filter = document.querySelector('[data-filter]');
  if (!filter) return;
  const radios = document.querySelectorAll('input[data-visibility]');
  const update = () => {
    const checked = document.querySelector('input[data-visibility]:checked');
    filter.hidden = !checked || checked.value !== 'filter';
  };
  radios.forEach((r) => r.addEventListener('change', update));
  update();
}

/** `{{` completion of ticket fields in Smart Text textareas (a listbox, keyboard first). */
function completion() {
  const names = [...document.querySelectorAll('#ticket-fields option')].map((o) => o.value);
  if (!names.length) return;
  let counter = 0;
  for (const area of document.querySelectorAll('textarea[data-complete]')) {
    const list = document.createElement('ul');
    list.className = 'complete';
    list.id = `complete-${counter++}`;
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Ticket fields');
    list.hidden = true;
    area.parentElement.classList.add('complete-host');
    area.insertAdjacentElement('afterend', list);
    area.setAttribute('aria-autocomplete', 'list');
    area.setAttribute('aria-controls', list.id);
    let active = 0;
    let partial = null;

    const close = () => { list.hidden = true; partial = null; area.removeAttribute('aria-activedescendant'); };
    const choose = (name) => {
      const caret = area.selectionStart;
      const before = area.value.slice(0, caret - partial.length);
      const after = area.value.slice(caret).replace(/^\s*\}\}/, '');
      area.value = `${before}${name}}}${after}`;
      const at = before.length + name.length + 2;
      area.setSelectionRange(at, at);
      close();
      area.dispatchEvent(new Event('input', { bubbles: true }));
    };
    const render = (matches) => {
      list.replaceChildren(...matches.map((name, i) => {
        const li = document.createElement('li');
        li.id = `${list.id}-${i}`;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', String(i === active));
        li.textContent = name;
        li.addEventListener('mousedown', (e) => { e.preventDefault(); choose(name); });
        return li;
      }));
      list.hidden = matches.length === 0;
      if (matches.length) area.setAttribute('aria-activedescendant', `${list.id}-${active}`);
    };
    const update = () => {
      const upto = area.value.slice(0, area.selectionStart);
      const m = /\{\{\s*([\w.]*)$/.exec(upto);
      if (!m) return close();
      partial = m[1];
      const needle = partial.toLowerCase();
      const matches = names.filter((n) => n.toLowerCase().startsWith(needle))
        .concat(names.filter((n) => !n.toLowerCase().startsWith(needle) && n.toLowerCase().includes(needle)))
        .slice(0, 8);
      active = Math.min(active, Math.max(matches.length - 1, 0));
      render(matches);
    };
    area.addEventListener('input', (e) => { if (e.isTrusted) { active = 0; update(); } });
    area.addEventListener('blur', close);
    area.addEventListener('keydown', (e) => {
      if (list.hidden) return;
      const options = [...list.children];
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = (active + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
        render(options.map((o) => o.textContent));
      } else if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        choose(options[active].textContent);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        close();
      }
    });
  }
}

authMethod();
ruleMethods();
visibility();
completion();
