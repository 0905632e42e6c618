// Passkeys on the console (WebAuthn is a script API): adding one on /console/passkeys, and
// signing in with one on /console/login (on its own) or /console/login/code (after the
// password). The server checks everything; this only carries bytes between it and the
// authenticator, base64url both ways.
"use strict";
(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return; // no WebAuthn here: the buttons stay hidden, password and code work as before
  }
  const decode = (text) =>
    Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const encode = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  async function post(url, body, csrf) {
    const headers = { "Content-Type": "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", headers, body: JSON.stringify(body || {}),
    });
    let answer = null;
    try { answer = await response.json(); } catch (_) { answer = null; }
    if (!response.ok) {
      const message = answer && answer.error ? answer.error.message : "HTTP " + response.status;
      throw new Error(message);
    }
    return answer;
  }

  function show(error) {
    const box = document.getElementById("passkey-error");
    if (!box) return;
    // The page gives the text in its own language.
    box.textContent = error.name === "NotAllowedError"
      ? (box.dataset.closed || "The passkey prompt was closed or timed out; try again.")
      : error.message;
    box.hidden = false;
  }

  async function create(options) {
    const key = options.publicKey;
    key.challenge = decode(key.challenge);
    key.user.id = decode(key.user.id);
    (key.excludeCredentials || []).forEach((c) => { c.id = decode(c.id); });
    const made = await navigator.credentials.create({ publicKey: key });
    return {
      id: made.id, rawId: encode(made.rawId), type: made.type,
      response: {
        attestationObject: encode(made.response.attestationObject),
        clientDataJSON: encode(made.response.clientDataJSON),
        transports: made.response.getTransports ? made.response.getTransports() : undefined,
      },
      extensions: made.getClientExtensionResults(),
    };
  }

  async function get(options) {
    const key = options.publicKey;
    key.challenge = decode(key.challenge);
    (key.allowCredentials || []).forEach((c) => { c.id = decode(c.id); });
    const request = { publicKey: key };
    if (options.mediation) request.mediation = options.mediation;
    const used = await navigator.credentials.get(request);
    return {
      id: used.id, rawId: encode(used.rawId), type: used.type,
      response: {
        authenticatorData: encode(used.response.authenticatorData),
        clientDataJSON: encode(used.response.clientDataJSON),
        signature: encode(used.response.signature),
        userHandle: used.response.userHandle ? encode(used.response.userHandle) : null,
      },
      extensions: used.getClientExtensionResults(),
    };
  }

  // /console/passkeys: add one.
  const add = document.getElementById("add-passkey");
  if (add) {
    add.hidden = false;
    add.addEventListener("click", async () => {
      add.disabled = true;
      try {
        const csrf = add.dataset.csrf;
        const label = (document.getElementById("passkey-label") || {}).value || "";
        const ceremony = await post("/console/passkeys/options", {}, csrf);
        const credential = await create(ceremony.options);
        await post("/console/passkeys", { ceremony: ceremony.ceremony, credential, label }, csrf);
        window.location.assign("/console/passkeys?added");
      } catch (error) {
        show(error);
      } finally {
        add.disabled = false;
      }
    });
  }

  // /console/login and /console/login/code: sign in with one.
  for (const [id, secondFactor] of [["passkey-sign-in", false], ["passkey-second-factor", true]]) {
    const button = document.getElementById(id);
    if (!button) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const form = button.dataset.form;
        const ceremony = await post("/console/login/passkey/options",
          { form, second_factor: secondFactor });
        const credential = await get(ceremony.options);
        const done = await post("/console/login/passkey",
          { form, ceremony: ceremony.ceremony, credential, second_factor: secondFactor });
        window.location.assign(done.location);
      } catch (error) {
        show(error);
      } finally {
        button.disabled = false;
      }
    });
  }
})();
