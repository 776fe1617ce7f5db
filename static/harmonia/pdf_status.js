/* The PDF page follows its background job (templates/declarations/pdf/status.html). */
(function () {
  var box = document.getElementById("pdf-export");
  var bar = document.getElementById("pdf-progress");
  var label = document.getElementById("pdf-label");
  function poll() {
    fetch(box.dataset.stateUrl, {headers: {"Accept": "application/json"}, cache: "no-store"})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        bar.value = s.progress;
        bar.textContent = s.progress + " %";
        label.textContent = s.label.charAt(0).toUpperCase() + s.label.slice(1) + (s.finished ? "" : " : " + s.progress + " %");
        if (s.download_url) {
          var link = document.querySelector("#pdf-download a");
          link.href = s.download_url;
          document.getElementById("pdf-download").hidden = false;
        }
        var notice = document.getElementById("pdf-notice");
        notice.textContent = s.notice;
        notice.hidden = !s.notice;
        if (s.error) {
          var error = document.getElementById("pdf-error");
          error.textContent = s.error;
          error.hidden = false;
        }
        if (s.finished) { document.getElementById("pdf-wait").hidden = true; }
        else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
