// Sends the browser on to the identity provider as soon as the page has
// loaded. The page's own Continue button does the same without JavaScript;
// this file exists because the Content-Security-Policy allows no inline
// script.
(function () {
  "use strict";
  var form = document.querySelector("form[data-sso-continue]");
  if (form) {
    form.submit();
    return;
  }
  var link = document.querySelector("a[data-sso-continue]");
  if (link) {
    window.location.replace(link.href);
  }
})();
