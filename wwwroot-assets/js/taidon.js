// Small browser helpers of Taidon's (served by the app).
window.taidon = {
    // The theme is remembered in a cookie, so that the server renders the page in it from the start.
    setDarkTheme: function (dark) {
        document.cookie = "taidon.theme=" + (dark ? "dark" : "light") + "; path=/; max-age=31536000; samesite=lax";
    },
};
