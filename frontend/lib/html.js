// One import for views: Preact + htm (`html` tagged templates) and the hooks they use.
export { html, render, h, Component } from "htm/preact";
export { useState, useEffect, useMemo, useRef, useCallback, useLayoutEffect, useReducer } from "preact/hooks";
