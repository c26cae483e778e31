// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// After a refused form, focus goes to the first field in error (its message is tied to it).
document.addEventListener("DOMContentLoaded", function () {
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    invalid.focus();
  }
});

// Wide tables scroll inside a region that takes keyboard focus and is named by the heading
// before it (WCAG 2.1.1, axe scrollable-region-focusable); no page scrolls sideways.
document.addEventListener("DOMContentLoaded", function () {
  var tables = document.querySelectorAll("main table.data");
  Array.prototype.forEach.call(tables, function (table, index) {
    var region = table.parentElement;
    if (!region.classList.contains("table-scroll")) {
      region = document.createElement("div");
      region.className = "table-scroll";
      table.parentNode.insertBefore(region, table);
      region.appendChild(table);
    }
    if (!region.hasAttribute("tabindex")) {
      region.setAttribute("tabindex", "0");
    }
    region.setAttribute("role", "region");
    if (!region.hasAttribute("aria-label") && !region.hasAttribute("aria-labelledby")) {
      var caption = table.querySelector("caption");
      var heading = null;
      var node = region.previousElementSibling;
      while (node && !heading) {
        if (/^H[1-6]$/.test(node.tagName)) { heading = node; }
        node = node.previousElementSibling;
      }
      var name = caption ? caption.textContent : (heading ? heading.textContent : document.title);
      region.setAttribute("aria-label", name.trim() + (tables.length > 1 ? " (" + (index + 1) + ")" : ""));
    }
  });
});

// Phones (issue 26): rows holding actions stack at narrow widths (app.css); each cell keeps
// its column's name, shown before it.
document.addEventListener("DOMContentLoaded", function () {
  var tables = document.querySelectorAll("main table.data");
  Array.prototype.forEach.call(tables, function (table) {
    var headers = table.querySelectorAll("thead tr:last-child th");
    if (!headers.length) { return; }
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr, tfoot tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        var header = headers[column];
        var name = header ? header.textContent.trim() : "";
        if (name && !cell.hasAttribute("data-label") && cell.tagName === "TD") {
          cell.setAttribute("data-label", name);
        }
        column += cell.colSpan || 1;
      });
    });
  });
});
