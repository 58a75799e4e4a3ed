// Starts GOV.UK Frontend's components on every Chorus page.
//
// GOV.UK's own page template does this with an inline <script>; Chorus's
// Content-Security-Policy allows no inline script, so the layouts load this file as a
// module instead. Browsers that cannot run modules never get here, which is exactly
// GOV.UK Frontend's own "supported" test, so they keep the no-JavaScript pages.
import { initAll } from './govuk/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
