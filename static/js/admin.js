// The admin's autocomplete fields (select2) name their combobox after the selected value
// only, so an empty one has no accessible name (axe aria-input-field-name, serious; issue
// #19). Name it after the field's label as well. select2 is set up on jQuery's ready, so
// by the load event it is there.
window.addEventListener("load", () => {
  for (const select of document.querySelectorAll("select.admin-autocomplete[id]")) {
    const label = document.querySelector(`label[for="${select.id}"]`);
    const box = select.parentElement.querySelector(".select2-selection[role=combobox]");
    if (!label || !box) continue;
    label.id = label.id || `${select.id}_label`;
    const rendered = box.getAttribute("aria-labelledby");
    box.setAttribute("aria-labelledby", rendered ? `${label.id} ${rendered}` : label.id);
  }
});
