// Posts the SAML Response to the service provider as soon as the page has
// loaded; the Continue button does the same without JavaScript.
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-submit]");
  if (form) {
    form.submit();
  }
})();
