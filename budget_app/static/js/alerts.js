// Public report form: refuse too-large attachments before sending, so that a long report
// is never lost to a "request too large" page (progressive enhancement only).
(function () {
  function check(form) {
    var perFile = parseInt(form.getAttribute("data-max-file-bytes"), 10);
    var total = parseInt(form.getAttribute("data-max-request-bytes"), 10);
    var sum = 0;
    var problem = "";
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        sum += file.size;
        if (perFile && file.size > perFile) { problem = form.getAttribute("data-file-too-big") + " " + file.name; }
      });
    });
    // Leave room for the text fields in the request.
    if (!problem && total && sum > total - 200000) { problem = form.getAttribute("data-files-too-big"); }
    return problem;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-max-file-bytes")) { return; }
    var problem = check(form);
    var box = form.querySelector(".upload-problem");
    if (problem) {
      event.preventDefault();
      if (box) { box.textContent = problem; box.hidden = false; }
    } else if (box) {
      box.hidden = true;
    }
  });
})();
