// The widget renderer (@jupyter-widgets/html-manager 1.x) typesets widget labels by calling
// MathJax 2's `MathJax.Hub.Queue`; the book loads MathJax 3, which has no `Hub`. Give it one that
// hands the element to MathJax 3. Installed at DOMContentLoaded: after MathJax's deferred script
// has run, before the renderer draws the widgets (it waits for the page's load event).
document.addEventListener("DOMContentLoaded", function () {
  var mj = window.MathJax;
  if (!mj || mj.Hub || !mj.startup) return;
  mj.Hub = {
    Queue: function (job) {
      var el = Array.isArray(job) ? job[2] : undefined;
      mj.startup.promise.then(function () { return mj.typesetPromise(el ? [el] : undefined); })
        .catch(function (err) { console.warn("MathJax could not typeset a widget label:", err); });
    }
  };
});
