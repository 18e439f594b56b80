"""The words of the corpus, per language: our own wording, in the image of what sites say.

`nf_titles` are not-found titles (without the site name), `nf_h1` not-found headings, `nf_text`
the sentence under them; `articles` are ordinary page titles with a paragraph of their own.
"""

# ruff: noqa: E501 (page markup and wording, kept one element or sentence a line)

from __future__ import annotations

LANGUAGES: dict[str, dict] = {
    "en": {
        "nf_titles": ["Page not found", "404 Not Found", "404: Page not found", "Nothing here (404)"],
        "nf_h1": ["Page not found", "Oops! That page can’t be found.", "404 - Not found", "Sorry, this page does not exist"],
        "nf_text": ["The page you asked for could not be found. It may have moved, or the link may be wrong.", "We looked everywhere but could not find this page."],
        "whimsy": ["That's a Four-Oh-Four.", "Lost in space?", "Well, this is awkward."],
        "home": "Back to the home page", "nav": ["Home", "Blog", "Docs", "About", "Search"],
        "tag": "Tag", "tagged": "Posts tagged “{}”", "recent": "Recent posts",
        "articles": [
            ("Getting started with vector spaces", "A vector space is a set closed under addition and scaling. In this lesson we build the idea from arrows in the plane and then drop the pictures."),
            ("Writing your first unit test", "Tests pin down behaviour so that later changes cannot break it silently. We start with a function that adds prices and grow a small suite around it."),
            ("How binary search really works", "Binary search halves the range at every step. The hard part is the boundaries, so we write the loop invariant down before any code."),
        ],
    },
    "fr": {
        "nf_titles": ["Page introuvable", "Erreur 404", "Page non trouvée"],
        "nf_h1": ["Oups ! Cette page est introuvable.", "Page introuvable", "Cette page n'existe pas"],
        "nf_text": ["La page que vous cherchez n'existe pas ou a été déplacée.", "Désolé, nous n'avons pas trouvé cette page."],
        "whimsy": ["Vous êtes perdu ?"],
        "home": "Retour à l'accueil", "nav": ["Accueil", "Articles", "Documentation", "À propos"],
        "tag": "Étiquette", "tagged": "Articles avec l'étiquette « {} »", "recent": "Articles récents",
        "articles": [
            ("Introduction aux probabilités", "Une probabilité mesure nos chances de voir un événement se produire. Nous partons des dés et des pièces avant de passer aux lois continues."),
            ("Bien débuter avec Git", "Git garde l'historique de vos fichiers. Nous créons un dépôt, faisons quelques commits et apprenons à revenir en arrière sans crainte."),
        ],
    },
    "de": {
        "nf_titles": ["Seite nicht gefunden", "Fehler 404", "404 – Seite nicht gefunden"],
        "nf_h1": ["Hoppla! Diese Seite gibt es nicht.", "Seite nicht gefunden", "Die gesuchte Seite existiert nicht"],
        "nf_text": ["Die angeforderte Seite wurde leider nicht gefunden.", "Vielleicht hilft die Suche weiter."],
        "whimsy": ["Hier ist nichts."],
        "home": "Zur Startseite", "nav": ["Start", "Blog", "Doku", "Über uns"],
        "tag": "Schlagwort", "tagged": "Beiträge mit dem Schlagwort „{}“", "recent": "Neueste Beiträge",
        "articles": [
            ("Einführung in die lineare Algebra", "Vektoren und Matrizen sind die Werkzeuge dieses Kurses. Wir rechnen zuerst von Hand und lassen dann den Rechner arbeiten."),
            ("Reguläre Ausdrücke verstehen", "Ein regulärer Ausdruck beschreibt ein Muster in Text. Wir lesen Beispiele Zeichen für Zeichen und bauen eigene Muster."),
        ],
    },
    "es": {
        "nf_titles": ["Página no encontrada", "Error 404", "No se ha encontrado la página"],
        "nf_h1": ["¡Vaya! No encontramos esa página.", "Página no encontrada", "Esta página no existe"],
        "nf_text": ["La página que buscas no existe o ha sido movida.", "Prueba a usar el buscador."],
        "whimsy": ["¿Te has perdido?"],
        "home": "Volver al inicio", "nav": ["Inicio", "Blog", "Guías", "Acerca de"],
        "tag": "Etiqueta", "tagged": "Entradas etiquetadas «{}»", "recent": "Entradas recientes",
        "articles": [
            ("Cómo funcionan las listas enlazadas", "Una lista enlazada guarda cada elemento junto a la dirección del siguiente. Veremos cómo insertar y borrar sin mover todo lo demás."),
            ("Primeros pasos con SQL", "SQL sirve para preguntar a una base de datos. Empezamos con SELECT y terminamos uniendo dos tablas."),
        ],
    },
    "pt": {
        "nf_titles": ["Página não encontrada", "Erro 404", "404 - Página não encontrada"],
        "nf_h1": ["Ops! Essa página não foi encontrada.", "Página não encontrada", "Esta página não existe"],
        "nf_text": ["A página que você procura não existe ou foi removida.", "Tente a busca ou volte ao início."],
        "whimsy": ["Parece que você se perdeu."],
        "home": "Voltar ao início", "nav": ["Início", "Blog", "Tutoriais", "Sobre"],
        "tag": "Tag", "tagged": "Posts com a tag “{}”", "recent": "Posts recentes",
        "articles": [
            ("Introdução à programação funcional", "Funções puras não dependem de nada além dos seus argumentos. Vamos ver por que isso facilita os testes."),
            ("Entendendo o protocolo HTTP", "Cada requisição tem um método, um endereço e cabeçalhos. Vamos abrir o navegador e observar as respostas."),
        ],
    },
    "it": {
        "nf_titles": ["Pagina non trovata", "Errore 404"],
        "nf_h1": ["Oops! Pagina non trovata.", "Questa pagina non esiste"],
        "nf_text": ["La pagina che stai cercando non esiste o è stata spostata."],
        "whimsy": ["Ti sei perso?"],
        "home": "Torna alla home", "nav": ["Home", "Blog", "Guide", "Chi siamo"],
        "tag": "Tag", "tagged": "Articoli con tag “{}”", "recent": "Articoli recenti",
        "articles": [
            ("Le basi della statistica", "La media e la mediana raccontano cose diverse. Con pochi esempi vediamo quando usare l'una o l'altra."),
        ],
    },
    "nl": {
        "nf_titles": ["Pagina niet gevonden", "Fout 404"],
        "nf_h1": ["Oeps! Deze pagina bestaat niet.", "Pagina niet gevonden"],
        "nf_text": ["De pagina die je zoekt is niet gevonden of verplaatst."],
        "whimsy": ["Verdwaald?"],
        "home": "Terug naar home", "nav": ["Home", "Blog", "Handleidingen", "Over"],
        "tag": "Tag", "tagged": "Berichten met tag ‘{}’", "recent": "Recente berichten",
        "articles": [
            ("Werken met Python-lijsten", "Een lijst houdt elementen op volgorde bij. We voegen toe, verwijderen en sorteren met een paar korte voorbeelden."),
        ],
    },
    "pl": {
        "nf_titles": ["Nie znaleziono strony", "Błąd 404"],
        "nf_h1": ["Ups! Strona nie istnieje.", "Nie znaleziono strony"],
        "nf_text": ["Strona, której szukasz, nie została znaleziona."],
        "whimsy": ["Zgubiłeś się?"],
        "home": "Wróć na stronę główną", "nav": ["Start", "Blog", "Poradniki", "O nas"],
        "tag": "Tag", "tagged": "Wpisy otagowane „{}”", "recent": "Najnowsze wpisy",
        "articles": [
            ("Podstawy rachunku różniczkowego", "Pochodna mówi, jak szybko zmienia się funkcja. Zaczynamy od prostej i stycznej."),
        ],
    },
    "ru": {
        "nf_titles": ["Страница не найдена", "Ошибка 404"],
        "nf_h1": ["Страница не найдена", "Такой страницы не существует"],
        "nf_text": ["Запрашиваемая страница не найдена. Возможно, она была удалена."],
        "whimsy": ["Кажется, вы заблудились."],
        "home": "На главную", "nav": ["Главная", "Блог", "Документация", "О нас"],
        "tag": "Метка", "tagged": "Записи с меткой «{}»", "recent": "Свежие записи",
        "articles": [
            ("Основы теории графов", "Граф состоит из вершин и рёбер. Мы разберём обход в ширину и в глубину на простых примерах."),
            ("Как устроен HTTP", "Каждый запрос содержит метод, адрес и заголовки. Посмотрим на ответы сервера в инструментах браузера."),
        ],
    },
    "uk": {
        "nf_titles": ["Сторінку не знайдено", "Помилка 404"],
        "nf_h1": ["Сторінку не знайдено"],
        "nf_text": ["Сторінка, яку ви шукаєте, не існує."],
        "whimsy": ["Ви заблукали?"],
        "home": "На головну", "nav": ["Головна", "Блог", "Про нас"],
        "tag": "Мітка", "tagged": "Записи з міткою «{}»", "recent": "Нові записи",
        "articles": [
            ("Вступ до баз даних", "База даних зберігає записи так, щоб їх було легко знайти. Почнемо з таблиць і ключів."),
        ],
    },
    "tr": {
        "nf_titles": ["Sayfa bulunamadı", "Hata 404"],
        "nf_h1": ["Aradığınız sayfa bulunamadı", "Sayfa bulunamadı"],
        "nf_text": ["Aradığınız sayfa kaldırılmış ya da hiç var olmamış olabilir."],
        "whimsy": ["Kayboldunuz mu?"],
        "home": "Ana sayfaya dön", "nav": ["Ana sayfa", "Blog", "Hakkında"],
        "tag": "Etiket", "tagged": "“{}” etiketli yazılar", "recent": "Son yazılar",
        "articles": [
            ("Algoritma analizine giriş", "Bir algoritmanın ne kadar hızlı olduğunu girdi büyüdükçe ölçeriz. Büyük O gösterimini örneklerle anlatıyoruz."),
        ],
    },
    "sv": {
        "nf_titles": ["Sidan hittades inte", "Fel 404"],
        "nf_h1": ["Sidan kunde inte hittas"],
        "nf_text": ["Sidan du letar efter finns inte längre."],
        "whimsy": ["Har du gått vilse?"],
        "home": "Till startsidan", "nav": ["Hem", "Blogg", "Om"],
        "tag": "Etikett", "tagged": "Inlägg märkta ”{}”", "recent": "Senaste inläggen",
        "articles": [
            ("Grunderna i sannolikhet", "Vi kastar tärningar och räknar utfall innan vi går vidare till fördelningar."),
        ],
    },
    "cs": {
        "nf_titles": ["Stránka nenalezena", "Chyba 404"],
        "nf_h1": ["Stránka nebyla nalezena"],
        "nf_text": ["Požadovaná stránka neexistuje nebo byla přesunuta."],
        "whimsy": ["Zabloudili jste?"],
        "home": "Zpět na úvod", "nav": ["Úvod", "Blog", "O nás"],
        "tag": "Štítek", "tagged": "Články se štítkem „{}“", "recent": "Nejnovější články",
        "articles": [
            ("Úvod do programování v C", "Jazyk C dává programátorovi přímý přístup k paměti. Začneme proměnnými a ukazateli."),
        ],
    },
    "vi": {
        "nf_titles": ["Không tìm thấy trang", "Lỗi 404"],
        "nf_h1": ["Không tìm thấy trang"],
        "nf_text": ["Trang bạn đang tìm không tồn tại hoặc đã bị xóa."],
        "whimsy": ["Bạn bị lạc rồi?"],
        "home": "Về trang chủ", "nav": ["Trang chủ", "Blog", "Giới thiệu"],
        "tag": "Thẻ", "tagged": "Bài viết có thẻ “{}”", "recent": "Bài viết mới",
        "articles": [
            ("Nhập môn cấu trúc dữ liệu", "Mảng và danh sách liên kết là hai cách lưu dữ liệu cơ bản. Chúng ta so sánh chi phí của từng thao tác."),
        ],
    },
    "id": {
        "nf_titles": ["Halaman tidak ditemukan", "Kesalahan 404"],
        "nf_h1": ["Halaman tidak ditemukan"],
        "nf_text": ["Halaman yang Anda cari tidak ada atau sudah dipindahkan."],
        "whimsy": ["Tersesat?"],
        "home": "Kembali ke beranda", "nav": ["Beranda", "Blog", "Tentang"],
        "tag": "Tag", "tagged": "Tulisan dengan tag “{}”", "recent": "Tulisan terbaru",
        "articles": [
            ("Belajar dasar jaringan komputer", "Setiap perangkat di jaringan punya alamat. Kita mulai dari alamat IP dan cara paket berpindah."),
        ],
    },
    "ar": {
        "nf_titles": ["الصفحة غير موجودة", "خطأ 404"],
        "nf_h1": ["عذراً، الصفحة غير موجودة", "لم يتم العثور على الصفحة"],
        "nf_text": ["الصفحة التي تبحث عنها غير موجودة أو تم نقلها."],
        "whimsy": ["يبدو أنك ضللت الطريق."],
        "home": "العودة إلى الرئيسية", "nav": ["الرئيسية", "المدونة", "من نحن"],
        "tag": "وسم", "tagged": "مقالات موسومة «{}»", "recent": "أحدث المقالات",
        "articles": [
            ("مقدمة في الخوارزميات", "الخوارزمية خطوات واضحة لحل مسألة. نبدأ بالبحث في قائمة مرتبة ثم نقيس عدد الخطوات."),
        ],
    },
    "ja": {
        "nf_titles": ["ページが見つかりません", "お探しのページは見つかりませんでした", "404 ページが存在しません"],
        "nf_h1": ["お探しのページは見つかりませんでした", "ページが見つかりません"],
        "nf_text": ["指定されたページは削除されたか、移動した可能性があります。"],
        "whimsy": ["迷子になりましたか？"],
        "home": "トップページへ戻る", "nav": ["ホーム", "ブログ", "ドキュメント", "概要"],
        "tag": "タグ", "tagged": "タグ「{}」の記事", "recent": "最近の投稿",
        "articles": [
            ("線形代数の基礎", "ベクトルと行列の計算を手で確かめながら、固有値の意味を考えます。"),
            ("Git入門：ブランチの使い方", "ブランチを使うと作業を分けて進められます。実際にコマンドを打ちながら流れを追います。"),
        ],
    },
    "zh-Hans": {
        "nf_titles": ["页面没有找到", "找不到此页面", "抱歉，您访问的页面不存在", "404 页面未找到"],
        "nf_h1": ["页面不存在", "抱歉，页面找不到了", "您访问的页面不存在"],
        "nf_text": ["您要找的页面可能已被删除或地址有误。"],
        "whimsy": ["这里什么都没有", "迷路了吗？"],
        "home": "返回首页", "nav": ["首页", "归档", "分类", "关于"],
        "tag": "标签", "tagged": "标签：{}", "recent": "最新文章",
        "articles": [
            ("Python 入门：列表与字典", "列表保存有序的元素，字典保存键值对。我们用几个小例子看看它们的常用操作。"),
            ("解决 Hexo 部署后页面不存在的问题", "部署到静态托管后，有些页面打开是空白或者提示找不到。原因通常是路径大小写和根目录配置不一致，本文逐一排查。"),
            ("操作系统学习笔记：进程与线程", "进程是资源分配的单位，线程是调度的单位。本文整理了课堂上的要点和几个练习。"),
        ],
    },
    "zh-Hant": {
        "nf_titles": ["頁面不存在", "找不到網頁", "找不到頁面"],
        "nf_h1": ["抱歉，找不到這個頁面", "頁面不存在"],
        "nf_text": ["您要找的頁面可能已被移除或網址有誤。"],
        "whimsy": ["這裡什麼都沒有"],
        "home": "回到首頁", "nav": ["首頁", "文章", "分類", "關於"],
        "tag": "標籤", "tagged": "標籤：{}", "recent": "最新文章",
        "articles": [
            ("資料結構入門：堆疊與佇列", "堆疊後進先出，佇列先進先出。我們用生活中的例子說明兩者的差別。"),
        ],
    },
    "ko": {
        "nf_titles": ["페이지를 찾을 수 없습니다", "404 페이지를 찾을 수 없음"],
        "nf_h1": ["요청하신 페이지를 찾을 수 없습니다", "페이지가 존재하지 않습니다"],
        "nf_text": ["주소가 잘못되었거나 페이지가 삭제되었습니다."],
        "whimsy": ["길을 잃으셨나요?"],
        "home": "홈으로 돌아가기", "nav": ["홈", "블로그", "문서", "소개"],
        "tag": "태그", "tagged": "“{}” 태그의 글", "recent": "최근 글",
        "articles": [
            ("자료구조 기초: 해시 테이블", "해시 테이블은 키를 빠르게 찾기 위한 구조입니다. 충돌을 처리하는 두 가지 방법을 살펴봅니다."),
        ],
    },
}  # fmt: skip

SITE_WORDS = {
    "en": (["Field", "Byte", "Lattice", "Tidewater", "Copper", "Quiet", "Orbit", "Maple", "Signal", "Paper"], ["Notes", "Garden", "Docs", "Journal", "Lab", "Academy", "Handbook", "Press"]),
    "fr": (["Carnet", "Atelier", "Cahier"], ["du Code", "Numérique", "de Maths"]),
    "de": (["Werkstatt", "Notizen", "Lernpfad"], ["Informatik", "Physik", "Code"]),
    "es": (["Cuaderno", "Taller", "Rincón"], ["de Código", "Digital", "Científico"]),
    "pt": (["Caderno", "Oficina", "Trilha"], ["Dev", "de Dados", "Digital"]),
    "it": (["Quaderno", "Bottega"], ["del Codice", "Digitale"]),
    "nl": (["Notities", "Werkplaats"], ["Code", "Digitaal"]),
    "pl": (["Notatnik", "Warsztat"], ["Programisty", "Cyfrowy"]),
    "ru": (["Заметки", "Мастерская"], ["программиста", "кода"]),
    "uk": (["Нотатки", "Майстерня"], ["розробника", "коду"]),
    "tr": (["Kod", "Not"], ["Defteri", "Atölyesi"]),
    "sv": (["Kod", "Anteckningar"], ["boken", "verkstan"]),
    "cs": (["Zápisník", "Dílna"], ["programátora", "kódu"]),
    "vi": (["Sổ tay", "Góc"], ["lập trình", "công nghệ"]),
    "id": (["Catatan", "Bengkel"], ["Kode", "Digital"]),
    "ar": (["مدونة", "دفتر"], ["المبرمج", "التقنية"]),
    "ja": (["技術", "学習"], ["ノート", "ブログ", "メモ"]),
    "zh-Hans": (["小明的", "技术", "学习"], ["博客", "笔记", "小站"]),
    "zh-Hant": (["阿文的", "程式"], ["部落格", "筆記"]),
    "ko": (["개발", "공부"], ["노트", "블로그", "일지"]),
}  # fmt: skip
