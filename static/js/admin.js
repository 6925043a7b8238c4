// The admin's autocomplete fields (select2) name their combobox and its textbox after the
// selected value only, so an empty one has no accessible name (axe aria-input-field-name,
// serious; issue #19). Name both after the field's label as well, as soon as select2 puts
// them in the page (it does so on jQuery's ready, which may come after the load event).
(() => {
  function nameAutocompletes() {
    for (const select of document.querySelectorAll("select.admin-autocomplete[id]")) {
      const label = document.querySelector(`label[for="${select.id}"]`);
      const box = select.parentElement.querySelector(".select2-selection[role=combobox]");
      if (!label || !box || box.dataset.named) continue;
      label.id = label.id || `${select.id}_label`;
      const rendered = box.querySelector(".select2-selection__rendered[id]");
      box.setAttribute("aria-labelledby", rendered ? `${label.id} ${rendered.id}` : label.id);
      if (rendered) rendered.setAttribute("aria-labelledby", label.id);
      box.dataset.named = "1";
    }
  }
  new MutationObserver(nameAutocompletes).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
