"""Look: the conversation's CSS (light and dark, contrast ≥ 4.5:1, phone-wide) and its few lines of browser code."""

# Colours: text uses the theme's body colour on the theme's backgrounds (both modes meet AA); the confidence
# chips carry their own dark-on-light colours, so they read the same in either mode.
CSS = """
.rag-welcome { color: var(--body-text-color); margin: 8px 0; }
.rag-turn { margin: 0 0 18px; scroll-margin-top: 8px; }
.rag-who { display: block; font-size: 0.8em; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em;
  color: var(--body-text-color); }
h2.rag-q-text { display: block; font-size: 1em; font-weight: 400; margin: 0; }
.rag-q { margin: 0 0 6px auto; max-width: 85%; padding: 8px 12px; border-radius: 12px;
  background: var(--background-fill-secondary); color: var(--body-text-color); width: fit-content; }
.rag-a { padding: 10px 12px; border-radius: 12px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); color: var(--body-text-color); }
.rag-a-text { margin: 2px 0 0; font-size: 1.05em; line-height: 1.55; }
.rag-error { border-color: #b91c1c; }
a.rag-cite { color: var(--body-text-color); font-weight: 700; text-decoration: underline; padding: 0 1px; }
a.rag-cite:focus-visible, .rag-button:focus-visible, .rag-turn-sources > summary:focus-visible {
  outline: 3px solid #2563eb; outline-offset: 2px; }
.rag-turn-sources { margin-top: 8px; }
.rag-turn-sources > summary { cursor: pointer; font-weight: 600; color: var(--body-text-color); padding: 4px 0; }
.rag-sources { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 0 16px; }
.rag-column h3 { font-size: 1em; font-weight: 600; margin: 10px 0 4px; color: var(--body-text-color);
  border-bottom: 1px solid var(--border-color-primary); }
.rag-cards { list-style: none; padding: 0; margin: 0; }
.rag-card { margin: 6px 0; padding: 8px 10px; border-radius: 6px; border-left: 4px solid #15803d;
  background: var(--background-fill-secondary); color: var(--body-text-color); scroll-margin-top: 12px; }
.rag-card-related { border-left-color: #b45309; }
.rag-card-further, .rag-card-none { border-left-color: #6b7280; }
.rag-card:target { outline: 3px solid #2563eb; animation: rag-flash 2s ease-out; }
@keyframes rag-flash { 0%, 30% { background: #fde68a; color: #1f2937; } 100% { } }
.rag-meta { font-size: 0.85em; margin-bottom: 4px; color: var(--body-text-color); }
.rag-text { font-size: 0.95em; line-height: 1.5; }
.rag-further-title { font-size: 0.85em; font-weight: 600; margin: 10px 0 0; color: var(--body-text-color); }
.rag-note { font-style: italic; color: var(--body-text-color); }
.rag-chip { display: inline-block; font-size: 0.8em; font-weight: 600; padding: 0 6px; border-radius: 9px;
  margin-left: 4px; vertical-align: baseline; }
.rag-answers { background: #dcfce7; color: #14532d; }
.rag-related { background: #fef3c7; color: #78350f; }
.rag-chip.rag-further, .rag-chip.rag-none { background: #e5e7eb; color: #1f2937; }
.rag-actions { margin-top: 6px; display: flex; gap: 6px; flex-wrap: wrap; }
.rag-button { font-size: 0.85em; padding: 2px 10px; border-radius: 6px; cursor: pointer; min-height: 28px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color); }
.rag-button:disabled { cursor: default; opacity: 0.75; }
dialog.rag-viewer { margin: 0 0 0 auto; width: min(560px, 100vw); max-width: 100vw; height: 100dvh;
  max-height: 100dvh; padding: 16px; border: none; border-left: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); color: var(--body-text-color); box-sizing: border-box; }
dialog.rag-viewer::backdrop { background: rgba(0, 0, 0, 0.45); }
.rag-viewer-head { display: flex; justify-content: space-between; align-items: start; gap: 8px; }
.rag-viewer-head h2 { font-size: 1.05em; margin: 0; color: var(--body-text-color); }
.rag-viewer-text p { line-height: 1.55; margin: 0 0 10px; }
.rag-line { font-size: 0.8em; font-weight: 600; margin-right: 4px; }
.rag-heading { font-weight: 700; margin: 12px 0 4px; }
.rag-viewer-steps { display: flex; justify-content: space-between; gap: 8px; margin-top: 12px; }
@media (max-width: 600px) {
  .rag-q { max-width: 100%; }
  .rag-a-text { font-size: 1em; }
}
"""

# Page-wide fixes to the theme, where its defaults fall under 4.5:1: white on the orange primary button (2.8:1)
# and the footer's grey links. Set on .gradio-container so they win over the theme's own :root values.
PAGE_CSS = """
.gradio-container { --button-primary-background-fill: #c2410c; --button-primary-background-fill-hover: #9a3412;
  --button-primary-text-color: #ffffff; --button-primary-text-color-hover: #ffffff; }
footer a, footer button, footer span, footer div { color: var(--body-text-color) !important; opacity: 1 !important; }
"""

# Runs once when the conversation loads (`element` is its root). Clicks are delegated, so they keep working
# when the conversation is redrawn; `watch` scrolls the newest turn to the top once it arrives.
JS = """
let opened = null;  // the card button whose passage the viewer shows
const passagesOf = (button) => [...button.closest('.rag-turn').querySelectorAll('[data-view]')];
async function show(button) {
  // The server reads the passage and its neighbours from the index; the page sends only name and span.
  const dialog = element.querySelector('#rag-viewer');
  const title = dialog.querySelector('h2'), text = dialog.querySelector('.rag-viewer-text');
  opened = button;
  let found;
  try {
    found = await server.view(button.dataset.source, Number(button.dataset.start), Number(button.dataset.end));
  } catch (error) {
    found = {title: 'The document could not be loaded', html: '<p class="rag-note">Please try again.</p>'};
  }
  title.textContent = found.title;
  text.innerHTML = found.html;
  const all = passagesOf(button), at = all.indexOf(button);
  const [back, forth] = dialog.querySelectorAll('[data-step]');
  back.disabled = at <= 0;
  forth.disabled = at >= all.length - 1;
  if (!dialog.open) dialog.showModal();
  if (!dialog.contains(document.activeElement)) dialog.querySelector('form button').focus();  // a step disabled
  const here = text.querySelector('.rag-here');
  if (here) here.scrollIntoView({block: 'center'});
}
element.addEventListener('click', (event) => {
  const cite = event.target.closest('a.rag-cite');
  if (cite) {
    // The page may carry a <base href>: a plain "#id" link would then load another URL. Move the hash instead
    // (the card's :target style flashes it), after unfolding an older turn's sources.
    event.preventDefault();
    const id = cite.getAttribute('href').slice(1);
    const card = element.querySelector('#' + CSS.escape(id));
    const fold = card && card.closest('details');
    if (fold) fold.open = true;
    if (location.hash === '#' + id) { location.hash = ''; }
    location.hash = id;
  }
  const view = event.target.closest('[data-view]');
  if (view) show(view);
  const step = event.target.closest('[data-step]');
  if (step && opened) {
    const all = passagesOf(opened);
    const next = all[all.indexOf(opened) + Number(step.dataset.step)];
    if (next) show(next);
  }
  const copy = event.target.closest('[data-quote]');
  if (copy) {
    const done = (word) => { copy.textContent = word; setTimeout(() => { copy.textContent = 'Copy quote'; }, 2000); };
    const said = copy.closest('.rag-card').querySelector('.rag-text').innerText;
    const text = `“${said}” — ${copy.dataset.quote}`;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => done('Copied ✓'), () => done('Copy failed'));
    } else {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      done(document.execCommand('copy') ? 'Copied ✓' : 'Copy failed'); area.remove();
    }
  }
});
watch('value', () => {
  const turns = element.querySelectorAll('.rag-turn');
  if (turns.length) turns[turns.length - 1].scrollIntoView({block: 'start'});
});
"""
